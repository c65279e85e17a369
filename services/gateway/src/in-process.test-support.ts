/**
 * An in-process cluster for the gateway tests: the workers of
 * `@mcp-cluster/worker/test-support` plus gateways, started in this process under one
 * key/subject prefix. Disposing closes the workers, then the gateways, then deletes the
 * prefix's keys. Exported as `@mcp-cluster/gateway/test-support`; not part of the packed package.
 */
import type { ConfigInput } from '@mcp-cluster/config';
import { workersReady } from '@mcp-cluster/test-support';
import { InProcessWorkers } from '@mcp-cluster/worker/test-support';
import type { RunningWorker } from '@mcp-cluster/worker/test-support';
import { startGateway } from './gateway.js';
import type { RunningGateway } from './gateway.js';

export type { RunningGateway };
export type { LogEntry, RunningWorker } from '@mcp-cluster/worker/test-support';
export {
  ANONYMOUS,
  DISPATCH_DEADLINE_MS,
  IN_PROCESS_DRAIN_MS,
  IN_PROCESS_HEARTBEAT_MS,
  InProcessWorkers,
  TEST_DISPATCH_SECRET,
  envelopeHeaders,
  postDispatch,
} from '@mcp-cluster/worker/test-support';

/**
 * One test's cluster: a unique prefix, the gateways and workers started under it, and their
 * logs. Disposing closes every node still open (workers first), then deletes the prefix's
 * Redis keys.
 */
export class InProcessCluster extends InProcessWorkers {
  private readonly gateways: RunningGateway[] = [];

  async gateway(overrides: ConfigInput = {}): Promise<RunningGateway> {
    const gateway = await startGateway(this.config(overrides), this.log);
    this.gateways.push(gateway);
    return gateway;
  }

  /** A gateway with one worker behind it, once the gateway counts that worker routable. */
  async gatewayWithWorker(
    overrides: { gateway?: ConfigInput; worker?: ConfigInput } = {},
  ): Promise<{ gateway: RunningGateway; worker: RunningWorker }> {
    const gateway = await this.gateway(overrides.gateway);
    const worker = await this.worker(overrides.worker);
    await workersReady(gateway.url, 1);
    return { gateway, worker };
  }

  override async [Symbol.asyncDispose](): Promise<void> {
    await this.closeWorkers();
    for (const g of this.gateways.splice(0)) await g.close().catch(() => undefined);
    await super[Symbol.asyncDispose]();
  }
}
