import { describe, expect, it } from 'vitest';
import { createEngine } from './engine.js';
import { engineLogHooks } from './request-log.js';
import { LegacyClient, errorOf, resultOf, tool } from './test-harness.js';
import { ToolError } from './tool-error.js';

interface Line {
  readonly level: 'error' | 'debug';
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

function capturing() {
  const lines: Line[] = [];
  return {
    lines,
    log: {
      error: (msg: string, fields: Record<string, unknown>) =>
        lines.push({ level: 'error', msg, fields }),
      debug: (msg: string, fields: Record<string, unknown>) =>
        lines.push({ level: 'debug', msg, fields }),
    },
  };
}

describe('engine log hooks', () => {
  it('a handler that throws is logged with its stack, tool, method and request id', async () => {
    const { lines, log } = capturing();
    const engine = createEngine({
      serverInfo: { name: 's', version: '1' },
      packs: [
        {
          name: 'p',
          components: [
            tool('boom', function explodeHere() {
              throw new TypeError('cannot read the thing');
            }),
            tool('refuse', () => {
              throw new ToolError('no such city');
            }),
          ],
        },
      ],
      ...engineLogHooks(log),
    });
    const c = await LegacyClient.connect(engine);
    lines.length = 0;
    expect(errorOf(await c.request('tools/call', { name: 'boom', arguments: { a: 1 } })).code).toBe(
      -32603,
    );
    const failures = lines.filter((l) => l.level === 'error');
    expect(failures).toHaveLength(1);
    const failure = failures[0]!;
    expect(failure.msg).toBe('handler failed');
    expect(failure.fields).toMatchObject({
      method: 'tools/call',
      tool: 'boom',
      era: 'legacy',
      principal: 'anonymous',
      err: { name: 'TypeError', message: 'cannot read the thing' },
    });
    expect(failure.fields['id']).toBeDefined();
    const stack = (failure.fields['err'] as { stack: string }).stack;
    expect(stack).toContain('explodeHere');
    expect(stack).toContain('request-log.test.ts');

    // A ToolError is the tool's answer, not a failure: no error line, outcome tool_error.
    lines.length = 0;
    expect(resultOf(await c.request('tools/call', { name: 'refuse' }))['isError']).toBe(true);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.fields).toMatchObject({ outcome: 'tool_error', tool: 'refuse' });
    await engine.close();
  });

  it('a tool that throws while running as a task is logged too', async () => {
    const { lines, log } = capturing();
    const engine = createEngine({
      serverInfo: { name: 's', version: '1' },
      packs: [
        {
          name: 'p',
          components: [
            tool(
              'job',
              async function failInTask() {
                await new Promise((r) => setTimeout(r, 5));
                throw new Error('disk full');
              },
              { taskSupport: 'optional' },
            ),
          ],
        },
      ],
      ...engineLogHooks(log),
    });
    const c = await LegacyClient.connect(engine);
    const created = resultOf(await c.request('tools/call', { name: 'job', task: {} }));
    const taskId = (created['task'] as { taskId: string }).taskId;
    for (let i = 0; i < 50 && !lines.some((l) => l.level === 'error'); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const failure = lines.find((l) => l.level === 'error');
    expect(failure?.fields).toMatchObject({
      method: 'tools/call',
      tool: 'job',
      task: taskId,
      err: { message: 'disk full' },
    });
    expect((failure?.fields['err'] as { stack: string }).stack).toContain('failInTask');
    await engine.close();
  });

  it('logs one debug line per request: method, id, era, principal, duration, outcome', async () => {
    const { lines, log } = capturing();
    const engine = createEngine({
      serverInfo: { name: 's', version: '1' },
      packs: [{ name: 'p', components: [tool('t', () => 'ok')] }],
      ...engineLogHooks(log),
    });
    const c = await LegacyClient.connect(engine);
    lines.length = 0;
    await c.request('tools/call', { name: 't', arguments: { secret: 'hunter2' } });
    await c.request('tools/call', { name: 'missing' });
    await c.request('no/such/method');
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['debug', 'request'],
      ['debug', 'request'],
      ['debug', 'request'],
    ]);
    const [ok, unknownTool, unknownMethod] = lines.map((l) => l.fields);
    expect(ok).toMatchObject({
      method: 'tools/call',
      era: 'legacy',
      principal: 'anonymous',
      outcome: 'ok',
      tool: 't',
    });
    expect(typeof ok!['durationMs']).toBe('number');
    expect(ok!['id']).toBeDefined();
    expect(unknownTool!['outcome']).toBe(-32602);
    expect(unknownMethod!['outcome']).toBe(-32601);
    // Never the params: arguments may carry anything.
    expect(JSON.stringify(lines)).not.toContain('hunter2');
    expect(Object.keys(ok!).sort()).toEqual(
      ['durationMs', 'era', 'id', 'method', 'outcome', 'principal', 'tool'].sort(),
    );
    await engine.close();
  });
});
