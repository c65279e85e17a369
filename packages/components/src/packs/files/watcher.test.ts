/**
 * FilesWatcher over real temp trees and real file system events: debounced updates, list
 * changes on create/delete (files and whole folders), globs respected, stop is final, and the
 * pack's engine hook publishing into the engine's change feed. Every wait is on an event,
 * bounded by a timeout; "nothing else came" is shown by a later sentinel event arriving first.
 */
import { appendFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { JsonRpcMessage } from '@mcp-cluster/protocol';
import type { LocalEngine } from '@mcp-cluster/server';
import { createEngine } from '@mcp-cluster/server';
import { describe, expect, it } from 'vitest';
import { fileRoot } from '../../file-root.js';
import { EventLog, legacyClient, listChanged, plant, tempDir, updated } from './files.testkit.js';
import { filesPack } from './index.js';
import { uriOf } from './options.js';
import { FilesWatcher } from './watcher.js';

const uri = (relative: string): string => uriOf('docs:///', relative);

async function watching(
  dir: string,
  globs: { allow?: string[]; deny?: string[] } = {},
  debounceMs = 50,
): Promise<{ watcher: FilesWatcher; log: EventLog } & AsyncDisposable> {
  const log = new EventLog();
  const watcher = new FilesWatcher({
    root: fileRoot({ dir, ...globs }),
    uriOf: uri,
    emit: log.push,
    debounceMs,
  });
  await watcher.start();
  return { watcher, log, [Symbol.asyncDispose]: () => watcher.stop() };
}

describe('FilesWatcher', () => {
  it('announces a burst of writes to one file once, without list_changed', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'sub/a.txt': 'a', 'sentinel.txt': 's' });
    // A long quiet time, so a slow machine does not split the burst.
    await using w = await watching(tmp.dir, {}, 300);
    for (let i = 0; i < 5; i++) await appendFile(path.join(tmp.dir, 'sub/a.txt'), `${i}`);
    await w.log.next(updated(uri('sub/a.txt')));
    // A later change's event arriving proves the burst's flush is over.
    await writeFile(path.join(tmp.dir, 'sentinel.txt'), 'changed');
    await w.log.next(updated(uri('sentinel.txt')));
    expect(w.log.count(updated(uri('sub/a.txt')))).toBe(1);
    expect(w.log.count(listChanged)).toBe(0);
  });

  it('announces list_changed (and updated) when a file appears and when it vanishes', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'keep.txt': 'k' });
    await using w = await watching(tmp.dir);
    await writeFile(path.join(tmp.dir, 'new file.txt'), 'n');
    await w.log.next(listChanged);
    await w.log.next(updated(uri('new file.txt')));
    expect(uri('new file.txt')).toBe('docs:///new%20file.txt');
    await rm(path.join(tmp.dir, 'new file.txt'));
    await w.log.next(listChanged);
    await w.log.next(updated(uri('new file.txt')));
    await rename(path.join(tmp.dir, 'keep.txt'), path.join(tmp.dir, 'moved.txt'));
    await w.log.next(listChanged);
    await w.log.next(updated(uri('keep.txt')));
    await w.log.next(updated(uri('moved.txt')));
  });

  it('follows folders that appear (files inside included) and vanish', async () => {
    await using tmp = await tempDir();
    await using w = await watching(tmp.dir);
    await plant(tmp.dir, { 'made/deep/x.txt': 'x' });
    await w.log.next(updated(uri('made/deep/x.txt')));
    await w.log.next(listChanged);
    // The new folder is watched too: a later write inside it is seen.
    await writeFile(path.join(tmp.dir, 'made/deep/y.txt'), 'y');
    await w.log.next(updated(uri('made/deep/y.txt')));
    await w.log.next(listChanged);
    await rm(path.join(tmp.dir, 'made'), { recursive: true });
    await w.log.next(updated(uri('made/deep/x.txt')));
    await w.log.next(updated(uri('made/deep/y.txt')));
    await w.log.next(listChanged);
  });

  it('never announces paths the globs refuse', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'private/p.md': 'p', 'a.md': 'a' });
    await using w = await watching(tmp.dir, { allow: ['**/*.md'], deny: ['private/**'] });
    await writeFile(path.join(tmp.dir, 'private/p.md'), 'changed');
    await writeFile(path.join(tmp.dir, 'private/new.md'), 'new');
    await writeFile(path.join(tmp.dir, 'a.bin'), 'not allowed');
    await mkdir(path.join(tmp.dir, 'private/sub'));
    await writeFile(path.join(tmp.dir, 'a.md'), 'sentinel');
    await w.log.next(updated(uri('a.md')));
    expect(w.log.events).toEqual([{ type: 'resources/updated', uri: uri('a.md') }]);
  });

  it('stops for good: a second watcher sees the change the stopped one does not', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'a.txt': 'a' });
    const first = await watching(tmp.dir);
    await first.watcher.stop();
    expect(first.watcher.running).toBe(false);
    await using second = await watching(tmp.dir);
    await writeFile(path.join(tmp.dir, 'a.txt'), 'changed');
    await second.log.next(updated(uri('a.txt')));
    // Events are delivered per watcher in the same loop turn; give the stopped one a flush.
    await writeFile(path.join(tmp.dir, 'b.txt'), 'b');
    await second.log.next(listChanged);
    expect(first.log.events).toEqual([]);
    // And it starts again.
    await first.watcher.start();
    await writeFile(path.join(tmp.dir, 'a.txt'), 'again');
    await first.log.next(updated(uri('a.txt')));
    await first.watcher.stop();
  });

  it('rejects start for a root that does not exist', async () => {
    await using tmp = await tempDir();
    const watcher = new FilesWatcher({
      root: fileRoot({ dir: path.join(tmp.dir, 'missing') }),
      uriOf: uri,
      emit: () => undefined,
    });
    await expect(watcher.start()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(watcher.running).toBe(false);
  });
});

describe('files pack watcher in an engine', () => {
  it('publishes into the engine change feed while the engine runs, and stops with it', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'a.md': 'a' });
    const engine = createEngine({
      serverInfo: { name: 'test', version: '0' },
      packs: [filesPack({ dir: tmp.dir, name: 'docs', scheme: 'docs', debounceMs: 20 })],
    });
    const log = new EventLog();
    engine.changes.subscribe(log.push);
    try {
      await writeFile(path.join(tmp.dir, 'a.md'), 'changed');
      await log.next(updated('docs:///a.md'));
    } finally {
      await engine.close();
    }
  });
});

/** A legacy (2025-11-25) session of `engine` whose standalone stream is recorded. */
async function legacySession(engine: LocalEngine) {
  const { request, session } = await legacyClient(engine);
  const stream: JsonRpcMessage[] = [];
  const wake: (() => void)[] = [];
  session.attach((m) => {
    stream.push(m);
    for (const w of wake.splice(0)) w();
  });
  /** Resolves with the first recorded message `match` accepts; rejects after 5 s. */
  const next = async (match: (m: JsonRpcMessage) => boolean): Promise<JsonRpcMessage> => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const found = stream.find(match);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`not received: ${JSON.stringify(stream)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deadline - Date.now() + 1);
        wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  };
  return { request, next, stream };
}

describe('files pack watcher to a subscribed legacy session', () => {
  it('delivers resources/updated for the subscribed uri and list_changed on create', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'a.md': 'a', 'b.md': 'b' });
    await using engine = createEngine({
      serverInfo: { name: 'test', version: '0' },
      packs: [filesPack({ dir: tmp.dir, name: 'docs', scheme: 'docs', debounceMs: 20 })],
    });
    const client = await legacySession(engine);
    await client.request('resources/subscribe', { uri: 'docs:///a.md' });
    await writeFile(path.join(tmp.dir, 'b.md'), 'not subscribed');
    await writeFile(path.join(tmp.dir, 'a.md'), 'changed');
    const got = await client.next(
      (m) => 'method' in m && m.method === 'notifications/resources/updated',
    );
    expect(got).toMatchObject({ params: { uri: 'docs:///a.md' } });
    await writeFile(path.join(tmp.dir, 'c.md'), 'new');
    await client.next((m) => 'method' in m && m.method === 'notifications/resources/list_changed');
    const updates = client.stream.filter(
      (m) => 'method' in m && m.method === 'notifications/resources/updated',
    );
    expect(updates).toEqual([got]);
  });
});
