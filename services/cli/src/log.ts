/**
 * The `listening` line only the CLI writes; the process logger every node shares is
 * @mcp-cluster/config's.
 */
import { LOG_RANK } from '@mcp-cluster/config';

/** What the `listening` line carries besides the fixed fields. */
export interface ListeningFields {
  readonly url: string;
  readonly id?: string;
  readonly role?: 'gateway' | 'worker';
  /** The banner's facts (banner.ts: endpoints, packs, component counts). */
  readonly [field: string]: unknown;
}

/**
 * The one `listening` line a node writes once it accepts connections. Always written,
 * whatever the log level: tests, launchers and scripts wait for it and read `url` from it.
 */
export function writeListening(
  fields: ListeningFields,
  write: (line: string) => void = (l) => void process.stderr.write(l),
): void {
  write(
    `${JSON.stringify({ level: LOG_RANK.info, time: Date.now(), pid: process.pid, msg: 'listening', ...fields })}\n`,
  );
}
