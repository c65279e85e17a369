/**
 * Target processes: each target runs in its own child (node --import tsx), so one target's
 * GC and JIT state never touch another's. A child is ready when it prints its ready line on
 * stdout, or (the CLI fallback) a stderr log line with "msg":"listening" and the url.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SinkCounts } from './otlp-sink.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STARTUP_TIMEOUT_MS = 60_000;
const STDERR_TAIL_LINES = 20;

/** What one process of a target does, so the report can name it and find the gateway. */
export interface ProcessLabel {
  readonly role: 'server' | 'gateway' | 'worker' | 'proxy' | 'upstream';
  /** As printed: "server", "gateway g1", "worker w2", "proxy", "upstream echo". */
  readonly name: string;
}

/** The label of a target that is one process. */
export const SINGLE_SERVER: readonly ProcessLabel[] = [{ role: 'server', name: 'server' }];

export interface TargetProcess {
  readonly url: string;
  /** The process that takes the requests (RSS is read from it). */
  readonly pid: number;
  /** Every process that serves the target (a cluster: gateway and workers); CPU is their sum. */
  readonly pids: readonly number[];
  /** One label per pid, in the same order. */
  readonly processes: readonly ProcessLabel[];
  readonly note: string | undefined;
  /** What the bench's OTLP sink received from the target so far (the tracing target (j)). */
  spanExports?(): SinkCounts;
  /** The last stderr lines, for error reports. */
  stderrTail(): string;
  stop(): Promise<void>;
}

/** The child did not come up; `reason` is what it (or its exit) said. */
export class TargetStartError extends Error {
  override readonly name = 'TargetStartError';
}

interface ReadyMessage {
  ready?: boolean;
  url?: string;
  note?: string;
  reason?: string;
  msg?: string;
}

function parseLine(line: string): ReadyMessage | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as ReadyMessage;
  } catch {
    return undefined;
  }
}

let targetCpu: number | undefined;

/** Pins every target started from now on to one CPU (taskset), or unpins with undefined. */
export function pinTargets(cpu: number | undefined): void {
  targetCpu = cpu;
}

/**
 * Pins an already running process (all its threads) to the target CPU when pinning is on,
 * for targets whose processes are spawned by someone else (the cluster launcher).
 */
export function pinToTargetCpu(pid: number): void {
  if (targetCpu === undefined) return;
  execFileSync('taskset', ['-a', '-cp', String(targetCpu), String(pid)], { stdio: 'ignore' });
}

/** Pins this process (all its threads: the load generator) to one CPU. */
export function pinSelf(cpu: number): void {
  execFileSync('taskset', ['-a', '-cp', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

/** Runs `node --import tsx <args>` from the repo root and waits for its url. */
export function startTarget(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<TargetProcess> {
  const nodeArgs = ['--import', 'tsx', ...args];
  // taskset execs node, so the child's pid is the server's pid (RSS and CPU read from it).
  const [command, commandArgs] =
    targetCpu === undefined
      ? [process.execPath, nodeArgs]
      : ['taskset', ['-c', String(targetCpu), process.execPath, ...nodeArgs]];
  const child = spawn(command, commandArgs, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const stderrTail = (): string => tail.join('\n');

  return new Promise<TargetProcess>((resolve, reject) => {
    let settled = false;
    const fail = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new TargetStartError(reason));
    };
    const ready = (message: ReadyMessage): void => {
      if (settled || message.url === undefined) return;
      settled = true;
      clearTimeout(timer);
      const pid = child.pid ?? -1;
      resolve({
        url: message.url,
        pid,
        pids: [pid],
        processes: SINGLE_SERVER,
        note: message.note,
        stderrTail,
        stop: () => stopChild(child),
      });
    };
    const timer = setTimeout(
      () => fail(`no ready line within ${STARTUP_TIMEOUT_MS} ms\n${stderrTail()}`),
      STARTUP_TIMEOUT_MS,
    );

    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = parseLine(line);
      if (message?.ready === true) ready(message);
      else if (message?.ready === false) fail(message.reason ?? 'not ready');
    });
    // Drained continuously so a chatty child never blocks on a full pipe.
    createInterface({ input: child.stderr }).on('line', (line) => {
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
      const message = parseLine(line);
      if (message?.msg === 'listening') ready(message);
    });
    child.once('error', (err) => fail(`spawn failed: ${err.message}`));
    child.once('exit', (code, signal) =>
      fail(`exited (code ${code}, signal ${signal}) before ready\n${stderrTail()}`),
    );
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Resident set size of a process in MiB, from /proc (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match?.[1] === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

/** Linux clock ticks per second (USER_HZ); 100 on every mainstream kernel config. */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system, all threads) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
