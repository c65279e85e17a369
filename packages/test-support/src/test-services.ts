/**
 * The test Redis and NATS of the vitest global setup: their URLs, and deleting a prefix's keys
 * without a Redis client library.
 */
import { connect as netConnect } from 'node:net';

/** Bound on SCAN rounds when the keys of a prefix are deleted. */
const MAX_SCAN_ROUNDS = 10_000;

/** The test Redis and NATS URLs (vitest global setup); a missing one is a loud error, never a skip. */
export function testServices(): { redisUrl: string; natsUrl: string } {
  const redisUrl = process.env.MCP_TEST_REDIS_URL;
  const natsUrl = process.env.MCP_TEST_NATS_URL;
  if (!redisUrl || !natsUrl) {
    throw new Error(
      'MCP_TEST_REDIS_URL / MCP_TEST_NATS_URL are not set: run under vitest, whose global ' +
        'setup (packages/testkit/src/vitest-global-setup.ts) provides Redis and NATS',
    );
  }
  return { redisUrl, natsUrl };
}

/**
 * Deletes every key matching `pattern` (SCAN MATCH + DEL, bounded). Used when a test cluster
 * closes; tests that start nodes by hand can use it for their prefix too.
 */
export async function deleteRedisKeys(redisUrl: string, pattern: string): Promise<number> {
  const redis = await RespConnection.open(redisUrl);
  let deleted = 0;
  try {
    let cursor = '0';
    for (let round = 0; round < MAX_SCAN_ROUNDS; round++) {
      const reply = await redis.command('SCAN', cursor, 'MATCH', pattern, 'COUNT', '500');
      if (!Array.isArray(reply) || typeof reply[0] !== 'string' || !Array.isArray(reply[1])) {
        throw new Error(`unexpected SCAN reply ${JSON.stringify(reply)}`);
      }
      const keys = reply[1].filter((k): k is string => typeof k === 'string');
      if (keys.length > 0) deleted += Number(await redis.command('DEL', ...keys));
      cursor = reply[0];
      if (cursor === '0') return deleted;
    }
    throw new Error(`more than ${MAX_SCAN_ROUNDS} SCAN rounds for ${pattern}`);
  } finally {
    redis.close();
  }
}

type RespValue = string | number | null | RespValue[];

/**
 * Just enough RESP2 for the cleanup above, so this package needs no Redis client library:
 * one connection, one command at a time, replies parsed incrementally.
 */
class RespConnection {
  private buffer = Buffer.alloc(0);
  private waiting: { resolve: (v: RespValue) => void; reject: (e: Error) => void } | undefined;

  private constructor(private readonly socket: ReturnType<typeof netConnect>) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    const fail = (err: Error): void => {
      this.waiting?.reject(err);
      this.waiting = undefined;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('redis connection closed')));
  }

  static async open(url: string): Promise<RespConnection> {
    const u = new URL(url);
    const socket = netConnect(Number(u.port || 6379), u.hostname.replace(/^\[|\]$/g, ''));
    socket.setTimeout(5_000, () => socket.destroy(new Error('redis: no answer within 5 s')));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const conn = new RespConnection(socket);
    const user = decodeURIComponent(u.username);
    const password = decodeURIComponent(u.password);
    if (password !== '') await conn.command('AUTH', ...(user === '' ? [] : [user]), password);
    const db = u.pathname.replace(/^\//, '');
    if (db !== '') await conn.command('SELECT', db);
    return conn;
  }

  command(...args: string[]): Promise<RespValue> {
    if (this.waiting !== undefined) throw new Error('one redis command at a time');
    const frame = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(frame);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private drain(): void {
    const parsed = parseResp(this.buffer, 0);
    if (parsed === undefined || this.waiting === undefined) return;
    const { resolve, reject } = this.waiting;
    this.waiting = undefined;
    this.buffer = this.buffer.subarray(parsed.end);
    if (parsed.value instanceof Error) reject(parsed.value);
    else resolve(parsed.value);
  }
}

/** One RESP2 value at `at`, or undefined while incomplete. */
function parseResp(buf: Buffer, at: number): { value: RespValue | Error; end: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const head = buf.toString('utf8', at + 1, eol);
  switch (String.fromCharCode(buf[at] ?? 0)) {
    case '+':
      return { value: head, end: eol + 2 };
    case '-':
      return { value: new Error(`redis: ${head}`), end: eol + 2 };
    case ':':
      return { value: Number(head), end: eol + 2 };
    case '$': {
      const len = Number(head);
      if (len < 0) return { value: null, end: eol + 2 };
      if (buf.length < eol + 2 + len + 2) return undefined;
      return { value: buf.toString('utf8', eol + 2, eol + 2 + len), end: eol + 2 + len + 2 };
    }
    case '*': {
      const count = Number(head);
      if (count < 0) return { value: null, end: eol + 2 };
      const items: RespValue[] = [];
      let end = eol + 2;
      for (let i = 0; i < count; i++) {
        const item = parseResp(buf, end);
        if (item === undefined) return undefined;
        if (item.value instanceof Error) return item;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      return { value: new Error(`redis: unexpected reply ${head.slice(0, 40)}`), end: buf.length };
  }
}
