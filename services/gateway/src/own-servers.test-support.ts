/**
 * A redis-server or nats-server of one test, on a port of its own, that the test may kill and
 * start again on the same port (the shared ones are never stopped).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { eventually, within } from '@mcp-cluster/test-support';
import { Redis } from 'ioredis';

/** Bound on a killed server exiting. */
const EXIT_WITHIN_MS = 5_000;

async function killChild(child: ChildProcess | undefined, what: string): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await within(EXIT_WITHIN_MS, `${what} exits`, exited);
}

/** A redis-server on `port`, keeping its data in `dir` across restarts. */
export class OwnRedis {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it (loading the data saved by {@link kill}); resolves once it answers PING. */
  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir];
    args.push('--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no');
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    await eventually('the test Redis answers PING', () => this.command((r) => r.ping()), {
      pollMs: 50,
    });
  }

  /** Saves the data (as a Redis with persistence would have it), then SIGKILLs the server. */
  async kill(): Promise<void> {
    await this.command((r) => r.save()).catch(() => undefined);
    const child = this.child;
    this.child = undefined;
    await killChild(child, 'the test Redis');
  }

  /** One command on a connection of its own that never retries (undefined when refused). */
  private async command<T>(run: (redis: Redis) => Promise<T>): Promise<T | undefined> {
    const redis = new Redis(this.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return await run(redis);
    } finally {
      redis.disconnect();
    }
  }
}

/** A nats-server on `port` (core NATS keeps nothing across restarts). */
export class OwnNats {
  private child: ChildProcess | undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts it; resolves once its port accepts connections. */
  async start(): Promise<void> {
    this.child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(this.port)], {
      stdio: 'ignore',
    });
    await eventually('the test NATS accepts connections', () => this.accepts(), { pollMs: 50 });
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    await killChild(child, 'the test NATS');
  }

  private accepts(): Promise<true | undefined> {
    return new Promise((resolve) => {
      const socket = netConnect({ host: '127.0.0.1', port: this.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(undefined));
    });
  }
}
