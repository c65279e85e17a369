/**
 * The request pipeline: ordered stages around every request, so security, resilience and
 * observability plug in without touching handlers or transports. Parameter validation is
 * the built-in first stage; middleware of later stages run in stage order, then in the order
 * they were added. With no middleware the handler is called directly (no closures).
 */
import type { JsonObject, JsonRpcRequest } from '@mcp-cluster/protocol';
import type { RequestContext } from './context.js';

export const STAGES = ['validate', 'authenticate', 'authorize', 'rateLimit', 'observe'] as const;
export type Stage = (typeof STAGES)[number];

export type Next = () => Promise<JsonObject>;
/** Returns the result object (or throws a ProtocolError); call `next` to continue. */
export type Middleware = (
  request: JsonRpcRequest,
  ctx: RequestContext,
  next: Next,
) => Promise<JsonObject>;
export type Handler = (request: JsonRpcRequest, ctx: RequestContext) => Promise<JsonObject>;
/** Throws a ProtocolError (-32602) when params do not fit the method in this era. */
export type ParamsValidator = (
  method: string,
  params: JsonObject | undefined,
  era: RequestContext['era'],
) => void;

export class Pipeline {
  private readonly byStage = new Map<Stage, Middleware[]>();
  private chain: readonly Middleware[] = [];

  constructor(
    private readonly handler: Handler,
    private readonly validate: ParamsValidator | undefined,
  ) {}

  use(stage: Stage, middleware: Middleware): void {
    if (!STAGES.includes(stage)) throw new TypeError(`Unknown pipeline stage "${String(stage)}"`);
    let list = this.byStage.get(stage);
    if (list === undefined) this.byStage.set(stage, (list = []));
    list.push(middleware);
    this.chain = STAGES.flatMap((s) => this.byStage.get(s) ?? []);
  }

  run(request: JsonRpcRequest, ctx: RequestContext): Promise<JsonObject> {
    if (this.validate !== undefined) this.validate(request.method, request.params, ctx.era);
    const chain = this.chain;
    if (chain.length === 0) return this.handler(request, ctx);
    const step = (i: number): Promise<JsonObject> => {
      const mw = chain[i];
      if (mw === undefined) return this.handler(request, ctx);
      return mw(request, ctx, () => step(i + 1));
    };
    return step(0);
  }
}
