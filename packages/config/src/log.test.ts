import { describe, expect, it } from 'vitest';
import { nodeLog, processLogger } from './log.js';

describe('processLogger (pino)', () => {
  it('writes one JSON object per line: level, time, pid, fields, the mixin, msg; credentials redacted', () => {
    const lines: string[] = [];
    const log = processLogger('info', (l) => lines.push(l), {
      pretty: false,
      mixin: () => ({ trace_id: 'a'.repeat(32) }),
    });
    log.debug('not at info');
    log.info('started', { port: 3000, headers: { authorization: 'Bearer abc' }, token: 't' });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(entry).toEqual({
      level: 30,
      time: expect.any(Number) as unknown,
      pid: process.pid,
      trace_id: 'a'.repeat(32),
      port: 3000,
      headers: { authorization: '[redacted]' },
      token: '[redacted]',
      msg: 'started',
    });
    expect(lines[0]?.endsWith('\n')).toBe(true);
  });

  it('a mixin returning nothing adds nothing; errors keep their stack', () => {
    const lines: string[] = [];
    const log = nodeLog(
      processLogger('debug', (l) => lines.push(l), { pretty: false, mixin: () => undefined }),
    );
    log('error', 'failed', new Error('boom'), { id: 7 });
    const entry = JSON.parse(lines[0] ?? '') as {
      err: { message: string; stack: string };
      id: number;
    };
    expect(entry.id).toBe(7);
    expect(entry.err.message).toBe('boom');
    expect(entry.err.stack).toContain('log.test.ts');
    expect(Object.keys(entry)).not.toContain('trace_id');
  });

  it('writes readable lines on a terminal', () => {
    const lines: string[] = [];
    processLogger('info', (l) => lines.push(l), { pretty: true }).warn('slow', { ms: 12 });
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}slow ms=12\n$/);
  });
});
