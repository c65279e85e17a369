/**
 * FilesWatcher: file system events under a root become change events — one
 * `resources/updated` per changed file and one `resources/list_changed` when files appeared or
 * vanished — after a quiet time (debounce), so a burst of writes to one file is announced
 * once. Paths the root's globs refuse are never announced (their names stay private).
 *
 * It only watches and announces: where the events go (`emit`) and when it runs (`start` /
 * `stop`) belong to its owner — the files pack's engine hook, or anything that must decide
 * which process watches (e.g. one elected watcher per directory in a cluster).
 *
 * One non-recursive `fs.watch` per directory (inotify reports its entries' changes), not
 * Node 20's recursive mode, which on Linux stats and watches every file one by one. Event
 * kinds are not trusted: each reported path is looked at again when the burst ends and
 * compared with the files known, so a created, written, renamed or deleted file and a
 * directory that came or went are told apart by the file system itself.
 */
import type { FSWatcher, Stats } from 'node:fs';
import { watch } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ChangeEvent } from '@mcp-cluster/server';
import type { FileRoot } from '../../file-root.js';
import { listDirs, listFiles } from './tree.js';

/** Defaults of FilesWatcherOptions, written once. */
export const DEFAULT_WATCHER_OPTIONS = Object.freeze({
  debounceMs: 100,
  /** A burst that never goes quiet is still announced after this many debounce periods. */
  maxWaitFactor: 10,
  maxFiles: 100_000,
  maxDirs: 10_000,
});

export interface FilesWatcherOptions {
  readonly root: FileRoot;
  /** The uri announced for a relative path. */
  readonly uriOf: (relative: string) => string;
  /** Where change events go (an engine's change feed, a cluster bus, a test). */
  readonly emit: (event: ChangeEvent) => void;
  /** Quiet time before a burst is announced (default 100 ms). */
  readonly debounceMs?: number;
  /** Most files tracked (default 100,000); beyond, appearing files are not announced. */
  readonly maxFiles?: number;
  /** Most directories watched (default 10,000); deeper additions go unwatched. */
  readonly maxDirs?: number;
  /** Watch failures (the directory vanished, too many watches); default: ignored. */
  readonly onError?: (err: Error) => void;
}

export class FilesWatcher implements AsyncDisposable {
  private readonly root: FileRoot;
  private readonly options: FilesWatcherOptions;
  private readonly debounceMs: number;
  private readonly maxFiles: number;
  private readonly maxDirs: number;
  /** One watcher per directory, by relative path (`''` is the root). */
  private readonly dirs = new Map<string, FSWatcher>();
  private started = false;
  /** Relative paths of the admitted files known to exist. */
  private known = new Set<string>();
  /** Paths reported since the last flush; `''` asks for a full rescan. */
  private pending = new Set<string>();
  private firstPendingAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private generation = 0;

  constructor(options: FilesWatcherOptions) {
    this.options = options;
    this.root = options.root;
    this.debounceMs = options.debounceMs ?? DEFAULT_WATCHER_OPTIONS.debounceMs;
    this.maxFiles = options.maxFiles ?? DEFAULT_WATCHER_OPTIONS.maxFiles;
    this.maxDirs = options.maxDirs ?? DEFAULT_WATCHER_OPTIONS.maxDirs;
  }

  get running(): boolean {
    return this.started;
  }

  /**
   * Starts watching; resolves once the current files are known and every directory is
   * watched (a change made after that is announced). Starting twice is a no-op; rejects
   * when the root cannot be watched.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const generation = ++this.generation;
    // The root first and synchronously: a change made while the rest is set up is queued.
    try {
      this.watchDir('');
    } catch (err) {
      this.started = false;
      throw err;
    }
    // Flushes queue behind the walk, so they compare against the files it found.
    const walked = (async () => {
      await this.watchTree('');
      const files = await listFiles(this.root, this.maxFiles);
      if (generation === this.generation) this.known = new Set(files);
    })();
    this.flushing = walked.catch(() => undefined);
    await walked;
  }

  /** Stops watching; pending events are dropped. Resolves when no flush is running. */
  async stop(): Promise<void> {
    this.generation++;
    this.started = false;
    for (const watcher of this.dirs.values()) watcher.close();
    this.dirs.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    this.known.clear();
    await this.flushing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  private watchDir(relative: string): void {
    if (this.dirs.has(relative) || this.dirs.size >= this.maxDirs) return;
    const absolute = relative === '' ? this.root.dir : path.join(this.root.dir, relative);
    // Not persistent: watching alone does not keep a process alive.
    const watcher = watch(absolute, { persistent: false }, (_type, name) => {
      const entry = name === null ? '' : name.toString();
      this.report(entry === '' ? relative : relative === '' ? entry : `${relative}/${entry}`);
    });
    watcher.on('error', (err) => {
      // The directory itself went away (or cannot be watched): look at it again.
      this.unwatchDir(relative);
      if (relative === '') this.options.onError?.(err);
      else this.report(relative);
    });
    this.dirs.set(relative, watcher);
  }

  /** Watches `relative` and every directory under it. */
  private async watchTree(relative: string): Promise<void> {
    const generation = this.generation;
    for (const dir of await listDirs(this.root, relative, this.maxDirs)) {
      if (generation !== this.generation) return;
      try {
        this.watchDir(dir);
      } catch {
        // Gone again before it could be watched: its parent's event covers it.
      }
    }
  }

  private unwatchDir(relative: string): void {
    const prefix = `${relative}/`;
    for (const [dir, watcher] of this.dirs) {
      if (dir === relative || relative === '' || dir.startsWith(prefix)) {
        watcher.close();
        this.dirs.delete(dir);
      }
    }
  }

  private report(relative: string): void {
    if (!this.started) return;
    if (this.pending.size === 0) this.firstPendingAt = Date.now();
    this.pending.add(relative);
    clearTimeout(this.timer);
    const waited = Date.now() - this.firstPendingAt;
    const maxWait = this.debounceMs * DEFAULT_WATCHER_OPTIONS.maxWaitFactor;
    this.timer = setTimeout(() => this.flush(), waited >= maxWait ? 0 : this.debounceMs);
  }

  private flush(): void {
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Set();
    const generation = this.generation;
    this.flushing = this.flushing
      .then(() => this.apply(batch, generation))
      .catch((err: unknown) => this.options.onError?.(err as Error));
  }

  /** Compares what the reported paths are now with what was known; announces the difference. */
  private async apply(batch: ReadonlySet<string>, generation: number): Promise<void> {
    const updated = new Set<string>();
    let membership = false;
    const add = (relative: string): void => {
      if (this.known.has(relative)) {
        updated.add(relative);
      } else if (this.known.size < this.maxFiles) {
        this.known.add(relative);
        updated.add(relative);
        membership = true;
      }
    };
    const remove = (relative: string): void => {
      if (this.known.delete(relative)) {
        updated.add(relative);
        membership = true;
      }
    };
    for (const relative of batch) {
      const now = await this.look(relative);
      if (now === 'file') {
        add(relative);
        continue;
      }
      if (now === 'none') {
        remove(relative);
        if (relative !== '') this.unwatchDir(relative);
      } else {
        await this.watchTree(relative); // before listing: files added meanwhile are reported
      }
      // A directory that came, went or was renamed (or a rescan): compare the files under it.
      const present =
        now === 'dir'
          ? new Set(await listFiles(this.root, this.maxFiles, relative))
          : new Set<string>();
      for (const file of present) if (!this.known.has(file)) add(file);
      if (present.size >= this.maxFiles) continue; // truncated: absence proves nothing
      const prefix = relative === '' ? '' : `${relative}/`;
      for (const file of [...this.known]) {
        if (file.startsWith(prefix) && !present.has(file)) remove(file);
      }
    }
    if (generation !== this.generation) return;
    for (const relative of updated) {
      this.options.emit({ type: 'resources/updated', uri: this.options.uriOf(relative) });
    }
    if (membership) this.options.emit({ type: 'resources/list_changed' });
  }

  /** What `relative` is now: an admitted file (links resolved inside the root), a directory, or none. */
  private async look(relative: string): Promise<'file' | 'dir' | 'none'> {
    if (relative === '') return 'dir';
    const absolute = path.join(this.root.dir, ...relative.split('/'));
    let s: Stats;
    try {
      s = await lstat(absolute);
    } catch {
      return 'none';
    }
    if (s.isDirectory()) return 'dir';
    if (!this.root.admits(relative)) return 'none';
    if (s.isFile()) return 'file';
    if (!s.isSymbolicLink()) return 'none';
    try {
      return (await stat(await this.root.resolve(relative))).isFile() ? 'file' : 'none';
    } catch {
      return 'none';
    }
  }
}
