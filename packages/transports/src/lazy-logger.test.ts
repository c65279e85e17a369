import { describe, expect, it } from 'vitest';
import { createHttpApp } from './app.js';

describe('request loggers', () => {
  it('are created on their first line: it carries the request id and stays redacted', async () => {
    const lines: Record<string, unknown>[] = [];
    const app = createHttpApp({
      logLevel: 'warn',
      bodyLimitBytes: 1024,
      logStream: { write: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    });
    const parent = app.log;
    let children = 0;
    const child = parent.child.bind(parent);
    parent.child = (...args: Parameters<typeof child>) => {
      children++;
      return child(...args);
    };
    app.get('/quiet', (req) => {
      req.log.info('below the level');
      return 'ok';
    });
    app.get('/loud', (req) => {
      req.log.error({ headers: { authorization: 'Bearer secret' } }, 'failed');
      req.log.warn('and again');
      return 'ok';
    });
    await app.ready();
    expect((await app.inject('/quiet')).body).toBe('ok');
    expect(children).toBe(0);
    expect(lines).toEqual([]);

    expect((await app.inject('/loud')).body).toBe('ok');
    expect(children).toBe(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ msg: 'failed', headers: { authorization: '[redacted]' } });
    expect(typeof lines[0]?.['reqId']).toBe('string');
    expect(lines[1]).toMatchObject({ msg: 'and again', reqId: lines[0]?.['reqId'] });
    await app.close();
  });
});
