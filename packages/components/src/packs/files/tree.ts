/**
 * The files of a tree, in one stable order (depth first, names sorted by code unit), so the
 * engine's offset cursors page through `resources/list` without repeating or skipping a file
 * while the tree stands still. Directories reached through symbolic links are not entered
 * (no loops, no second path to a file); linked files are listed when the root resolves them.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FileRoot } from '../../file-root.js';

/**
 * Relative paths of the files under `root` (or under its directory `under`) the globs admit,
 * at most `limit` of them.
 */
export async function listFiles(root: FileRoot, limit: number, under = ''): Promise<string[]> {
  const out: string[] = [];
  await walk(root, under, out, limit);
  return out;
}

async function walk(root: FileRoot, prefix: string, out: string[], limit: number): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(prefix === '' ? root.dir : path.join(root.dir, prefix), {
      withFileTypes: true,
    });
  } catch {
    return; // Vanished or unreadable while walking: nothing to list there.
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (out.length >= limit) return;
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) {
      await walk(root, relative, out, limit);
    } else if (entry.isFile()) {
      if (root.admits(relative)) out.push(relative);
    } else if (entry.isSymbolicLink() && root.admits(relative)) {
      if (await isLinkedFile(root, relative)) out.push(relative);
    }
  }
}

/** Whether a link resolves (inside the root, admitted) to a regular file. */
async function isLinkedFile(root: FileRoot, relative: string): Promise<boolean> {
  try {
    return (await stat(await root.resolve(relative))).isFile();
  } catch {
    return false;
  }
}

/** Relative paths of the directories under `under` (itself included), links not followed. */
export async function listDirs(root: FileRoot, under: string, limit: number): Promise<string[]> {
  const out: string[] = [under];
  for (let i = 0; i < out.length && out.length < limit; i++) {
    const dir = out[i] as string;
    let entries: Dirent[];
    try {
      entries = await readdir(dir === '' ? root.dir : path.join(root.dir, dir), {
        withFileTypes: true,
      });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (entry.isDirectory() && out.length < limit) {
        out.push(dir === '' ? entry.name : `${dir}/${entry.name}`);
      }
    }
  }
  return out;
}
