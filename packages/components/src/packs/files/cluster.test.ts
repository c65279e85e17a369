/**
 * What the files pack does for a cluster, on the real engine (legacy era) over real temp
 * trees: a subscription to a uri the mount refuses is refused with the read's error, and the
 * watcher runs only in the process that leads the mount's lease — so two engines serving one
 * directory announce each change once, and the other takes over when the leader goes.
 */
import { symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Engine, Leadership, PackStop } from '@mcp-cluster/server';
import { createEngine } from '@mcp-cluster/server';
import { describe, expect, it } from 'vitest';
import { EventLog, errorOf, legacyClient, plant, tempDir, updated } from './files.testkit.js';
import { filesMount, filesPack, watchLeaseName } from './index.js';

describe('files pack: resources/subscribe', () => {
  it('refuses what a read refuses, with the same error, and records nothing', async () => {
    await using tmp = await tempDir();
    const root = path.join(tmp.dir, 'root');
    await plant(tmp.dir, {
      'outside/secret.txt': 'TOP SECRET',
      'root/ok.txt': 'ok',
      'root/private/p.md': 'p',
    });
    await symlink(path.join(tmp.dir, 'outside/secret.txt'), path.join(root, 'link.txt'));
    await symlink(path.join(root, 'private/p.md'), path.join(root, 'alias.md'));
    await using engine = createEngine({
      serverInfo: { name: 'test', version: '0' },
      packs: [filesPack({ dir: root, scheme: 'docs', deny: ['private/**'], watch: false })],
    });
    const { request, session } = await legacyClient(engine);
    const refused = [
      'docs:///private/p.md', // deny glob
      'docs:///private/not-yet.md', // denied whether or not it exists
      'docs:///link.txt', // symlink escape
      'docs:///alias.md', // link onto a denied path
      'docs:///../outside/secret.txt', // traversal, plain and encoded
      'docs:///%2e%2e/outside/secret.txt',
      'docs:///sub%2F..%2F..%2Foutside%2Fsecret.txt',
      'docs:///%252e%252e/outside/secret.txt',
      'docs:///ok.txt%00',
    ];
    for (const uri of refused) {
      const read = await request('resources/read', { uri });
      const subscribe = await request('resources/subscribe', { uri });
      expect(errorOf(read).code, uri).toBe(-32602);
      expect(errorOf(subscribe), uri).toEqual(errorOf(read));
      expect(JSON.stringify(subscribe)).not.toContain('TOP SECRET');
    }
    expect(session.state.subscriptions.size).toBe(0);
    // An admitted path may be subscribed to before its file exists.
    for (const uri of ['docs:///ok.txt', 'docs:///new/later.md']) {
      expect(await request('resources/subscribe', { uri })).toMatchObject({ result: {} });
    }
    expect([...session.state.subscriptions]).toEqual(['docs:///ok.txt', 'docs:///new/later.md']);
  });
});

/**
 * One leader per name among the engines sharing it, as a cluster's lease gives: the first
 * candidate leads; when it stops, the next one in line takes over.
 */
class OneLeader implements Leadership {
  readonly names: string[] = [];
  private readonly lines = new Map<string, { onLead: () => unknown; stop?: unknown }[]>();

  lead(name: string, onLead: () => Promise<PackStop | void> | PackStop | void): PackStop {
    this.names.push(name);
    const line = this.lines.get(name) ?? [];
    this.lines.set(name, line);
    const candidate: { onLead: () => unknown; stop?: unknown } = { onLead };
    line.push(candidate);
    const promoted = line.length === 1 ? this.promote(candidate) : Promise.resolve();
    return async () => {
      await promoted;
      const leading = line[0] === candidate;
      line.splice(line.indexOf(candidate), 1);
      if (!leading) return;
      if (typeof candidate.stop === 'function') await (candidate.stop as PackStop)();
      const next = line[0];
      if (next !== undefined) await this.promote(next);
    };
  }

  private async promote(candidate: { onLead: () => unknown; stop?: unknown }): Promise<void> {
    candidate.stop = await candidate.onLead();
  }
}

describe('files pack: one watcher per directory', () => {
  it('names the lease after the directory and uri prefix', async () => {
    await using tmp = await tempDir();
    const a = filesMount({ dir: tmp.dir, name: 'a', scheme: 'docs' });
    expect(watchLeaseName(filesMount({ dir: tmp.dir, name: 'b', scheme: 'docs' }))).toBe(
      watchLeaseName(a),
    );
    expect(watchLeaseName(filesMount({ dir: tmp.dir, name: 'a', scheme: 'code' }))).not.toBe(
      watchLeaseName(a),
    );
    expect(watchLeaseName(filesMount({ dir: path.join(tmp.dir, 'x'), scheme: 'docs' }))).not.toBe(
      watchLeaseName(a),
    );
  });

  it('announces each change once from the leader; the next engine takes over', async () => {
    await using tmp = await tempDir();
    await plant(tmp.dir, { 'a.md': 'a' });
    const leadership = new OneLeader();
    const log = new EventLog();
    const engines: Engine[] = [];
    const serve = (): Engine => {
      const engine = createEngine({
        serverInfo: { name: 'test', version: '0' },
        packs: [filesPack({ dir: tmp.dir, name: 'docs', scheme: 'docs', debounceMs: 20 })],
        leadership,
      });
      // Each engine's feed is its own here: what reaches the log came from that engine.
      engine.changes.subscribe(log.push);
      engines.push(engine);
      return engine;
    };
    const first = serve();
    serve();
    expect(leadership.names).toHaveLength(2);
    expect(new Set(leadership.names).size).toBe(1);
    // The leader's watcher is up once a write is announced; the standby's never started.
    await writeFile(path.join(tmp.dir, 'a.md'), 'a1');
    await log.next(updated('docs:///a.md'));
    await writeFile(path.join(tmp.dir, 'sentinel.md'), 's1');
    await log.next(updated('docs:///sentinel.md'));
    expect(log.count(updated('docs:///a.md'))).toBe(1);

    await first.close();
    await writeFile(path.join(tmp.dir, 'a.md'), 'a2');
    await log.next(updated('docs:///a.md'));
    await writeFile(path.join(tmp.dir, 'sentinel.md'), 's2');
    await log.next(updated('docs:///sentinel.md'));
    expect(log.count(updated('docs:///a.md'))).toBe(2);
    await Promise.all(engines.map((e) => e.close()));
  });
});
