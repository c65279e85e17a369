/** tools/list and tools/call (inline, MRTR, or as a task). */
import { MCP_ATTR, isTracing, withSpan } from '@mcp-cluster/observability';
import { Extension, ProtocolError } from '@mcp-cluster/protocol';
import type { CallToolResult, ContentBlock, JsonObject } from '@mcp-cluster/protocol';
import type { ToolSpec } from './components.js';
import type { RequestContext } from './context.js';
import {
  complete,
  INPUT_PENDING,
  listPage,
  optionalObject,
  requireString,
  withInput,
} from './core.js';
import type { EngineCore, MethodHandler } from './core.js';
import { EngineHandlerContext } from './handler-context.js';
import type { HandlerContext } from './context.js';
import { isJsonObject } from './mrtr.js';
import { normalizeToolReturn } from './normalize.js';
import type { TaskJob, TaskPort, TaskRun } from './tasks/api.js';
import { ToolError } from './tool-error.js';

export const listTools: MethodHandler = (core, params, ctx) => {
  return listPage(core, 'tools', core.registry.toolDescriptors, params, ctx);
};

const TASKS_REQUIRED = {
  requiredCapabilities: { extensions: { [Extension.Tasks]: {} } },
};

export const callTool: MethodHandler = async (core, params, ctx, abort) => {
  const name = requireString(params, 'name', 'tools/call');
  const spec = core.registry.tool(name);
  if (spec === undefined) throw ProtocolError.of('InvalidParams', `Unknown tool: ${name}`);
  const checked = spec.validateInput(optionalObject(params, 'arguments', 'tools/call'));
  if (!checked.ok) {
    return complete(
      {
        content: [
          {
            type: 'text',
            text: `Invalid arguments for tool ${name}: ${checked.issues.join('; ')}`,
          },
        ],
        isError: true,
      },
      ctx,
    );
  }
  const args = checked.value;
  const asTask = wantsTask(core, spec, params, ctx);
  return withInput(
    core,
    params,
    ctx,
    abort,
    { method: 'tools/call', target: name, principal: ctx.principal.id },
    async (hctx) => {
      const prepared = spec.prepare === undefined ? undefined : await spec.prepare(args, hctx);
      if (hctx.inputPending) throw INPUT_PENDING;
      if (asTask !== false && core.tasks !== undefined) {
        return core.tasks.start((port) => runInTask(core, spec, args, prepared, port, ctx), ctx, {
          ...asTask,
          job: {
            tool: name,
            arguments: isJsonObject(args) ? args : {},
            resumable: spec.prepare === undefined,
          },
        });
      }
      const result = await invokeTool(spec, args, hctx, prepared);
      return ctx.era === 'modern'
        ? { ...result, resultType: 'complete' }
        : (result as unknown as JsonObject);
    },
  );
};

/** False to run inline, else the task options. Throws when the tool needs a task it cannot get. */
function wantsTask(
  core: EngineCore,
  spec: ToolSpec,
  params: JsonObject,
  ctx: RequestContext,
): false | { ttlMs?: number } {
  if (core.tasks === undefined || spec.taskSupport === 'forbidden') return false;
  if (ctx.era === 'modern') {
    // Per request: only this request's declared capabilities count; a legacy `task` param is ignored.
    const ext = ctx.clientCapabilities.extensions;
    if (isJsonObject(ext) && ext[Extension.Tasks] !== undefined) return {};
    if (spec.taskSupport === 'required') {
      throw ProtocolError.of('MissingCapability', 'This tool runs only as a task', TASKS_REQUIRED);
    }
    return false;
  }
  const task = params['task'];
  if (ctx.protocolVersion === '2025-11-25' && isJsonObject(task)) {
    const ttl = task['ttl'];
    return typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0 ? { ttlMs: ttl } : {};
  }
  if (spec.taskSupport === 'required') {
    // 2025-11-25: a task-required tool invoked without `task` is answered -32601.
    throw ProtocolError.of('MethodNotFound', 'This tool must be invoked as a task');
  }
  return false;
}

/** Runs the handler and finishes its result; a ToolError becomes an isError result. */
export async function invokeTool(
  spec: ToolSpec,
  args: unknown,
  hctx: HandlerContext,
  prepared: unknown,
): Promise<CallToolResult> {
  let result: CallToolResult;
  try {
    // While tracing is on, the handler runs in a span of its own: `execute_tool <name>`.
    const returned = isTracing()
      ? await withSpan(
          `execute_tool ${spec.descriptor.name}`,
          {
            attributes: {
              [MCP_ATTR.operationName]: 'execute_tool',
              [MCP_ATTR.toolName]: spec.descriptor.name,
            },
          },
          () => spec.run(args, hctx, prepared),
        )
      : await spec.run(args, hctx, prepared);
    result = normalizeToolReturn(returned);
  } catch (err) {
    if (err instanceof ToolError) {
      return { content: [{ type: 'text', text: err.message }], isError: true };
    }
    throw err;
  }
  return finishStructured(spec, result);
}

function finishStructured(spec: ToolSpec, result: CallToolResult): CallToolResult {
  const structured = result.structuredContent;
  if (structured === undefined) {
    if (spec.validateOutput !== undefined && result.isError !== true) {
      throw new ProtocolError(-32603, `Tool ${spec.descriptor.name} returned no structuredContent`);
    }
    return result;
  }
  if (spec.validateOutput !== undefined && result.isError !== true) {
    const checked = spec.validateOutput(structured);
    if (!checked.ok) {
      throw new ProtocolError(
        -32603,
        `Tool ${spec.descriptor.name} returned structuredContent that does not match its outputSchema`,
      );
    }
  }
  // Clients that ignore structuredContent still see the data (spec: SHOULD also serialize it).
  if (result.content.some(isText)) return result;
  return {
    ...result,
    content: [...result.content, { type: 'text', text: JSON.stringify(structured) }],
  };
}

function isText(block: ContentBlock): boolean {
  return block.type === 'text';
}

/**
 * A task's run rebuilt from its TaskJob (a durable host resuming it on another node):
 * undefined when this node does not serve the tool or the job is not resumable.
 */
export function resumableTaskRun(
  core: EngineCore,
  job: TaskJob,
  ctx: RequestContext,
): TaskRun | undefined {
  const spec = core.registry.tool(job.tool);
  if (spec === undefined || !job.resumable) return undefined;
  return (port) => runInTask(core, spec, job.arguments, undefined, port, ctx);
}

function runInTask(
  core: EngineCore,
  spec: ToolSpec,
  args: unknown,
  prepared: unknown,
  port: TaskPort,
  ctx: RequestContext,
): Promise<CallToolResult> {
  const hctx = new EngineHandlerContext({
    request: ctx,
    meta: undefined,
    abort: port,
    // The creating request has been answered; its stream is not the task's to write on.
    outbound: undefined,
    session: undefined,
    input: { type: 'task', port },
    changes: core.changes,
    sampler: core.sampler,
  });
  return invokeTool(spec, args, hctx, prepared).catch((err: unknown) => {
    // The task fails either way; an unexpected error is also the operator's to see.
    if (!port.signal.aborted) {
      const request = {
        jsonrpc: '2.0' as const,
        id: ctx.requestId,
        method: 'tools/call',
        params: { name: spec.descriptor.name, task: port.taskId },
      };
      core.reportError(err, request, ctx);
    }
    throw err;
  });
}
