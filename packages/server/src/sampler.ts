/**
 * The port `ctx.sample` falls back to when the client cannot sample: a server-side model
 * provider (@mcp-cluster/sampling implements it). The engine never knows which provider.
 */
import type { JsonObject } from '@mcp-cluster/protocol';
import type { Principal } from './context.js';

export interface Sampler {
  /**
   * `client-first`: only requests whose client declared no `sampling` capability come here;
   * `server`: every `ctx.sample` does, whatever the client declared.
   */
  readonly mode: 'client-first' | 'server';
  /**
   * Answers `sampling/createMessage` params with a CreateMessageResult, or throws a
   * ProtocolError the handler sees (limits, provider unavailable, unsupported content).
   */
  createMessage(params: JsonObject, request: SamplerRequest): Promise<JsonObject>;
  /** Releases connections; the engine calls it when it closes. */
  close?(): Promise<void>;
}

/** Who is sampling, and the request's signal (aborted: the provider call is abandoned). */
export interface SamplerRequest {
  readonly principal: Principal;
  readonly signal: AbortSignal;
}

/** Whether `ctx.sample` goes to `sampler` rather than to the client. */
export function samplesOnServer(
  sampler: Sampler | undefined,
  clientCanSample: boolean,
): sampler is Sampler {
  return sampler !== undefined && (sampler.mode === 'server' || !clientCanSample);
}
