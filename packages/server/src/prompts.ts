/** prompts/list, prompts/get and completion/complete. */
import { ProtocolError } from '@mcp-cluster/protocol';
import type { JsonObject } from '@mcp-cluster/protocol';
import type { Completer, CompletionListMethod } from './components.js';
import type { RequestContext } from './context.js';
import { complete, listPage, optionalObject, requireString, withInput } from './core.js';
import type { EngineCore, MethodHandler } from './core.js';
import type { SignalSource } from './inflight.js';
import { listFilterOf } from './list-filter.js';
import { isJsonObject } from './mrtr.js';
import { normalizePromptReturn } from './normalize.js';
import { allResources, templateVariablesProblem } from './resources.js';

const MAX_COMPLETIONS = 100;

export const listPrompts: MethodHandler = (core, params, ctx) => {
  return listPage(core, 'prompts', core.registry.promptDescriptors, params, ctx);
};

export const getPrompt: MethodHandler = (core, params, ctx, abort) => {
  const name = requireString(params, 'name', 'prompts/get');
  const spec = core.registry.prompt(name);
  if (spec === undefined) throw ProtocolError.of('InvalidParams', `Unknown prompt: ${name}`);
  const checked = spec.validateArguments(optionalObject(params, 'arguments', 'prompts/get'));
  if (!checked.ok) {
    throw ProtocolError.of(
      'InvalidParams',
      `Invalid arguments for prompt ${name}: ${checked.issues.join('; ')}`,
    );
  }
  return withInput(
    core,
    params,
    ctx,
    abort,
    { method: 'prompts/get', target: name, principal: ctx.principal.id },
    async (hctx) => {
      const value = await spec.get(checked.value, hctx);
      return complete(
        normalizePromptReturn(value, spec.descriptor.description) as unknown as JsonObject,
        ctx,
      );
    },
  );
};

export const completeArgument: MethodHandler = async (core, params, ctx, abort) => {
  const ref = params['ref'];
  const argument = params['argument'];
  if (!isJsonObject(ref) || !isJsonObject(argument)) {
    throw ProtocolError.of('InvalidParams', 'completion/complete: ref and argument are required');
  }
  const argName = requireString(argument, 'name', 'completion/complete argument');
  const value = requireString(argument, 'value', 'completion/complete argument');
  const context = params['context'];
  const given = (
    isJsonObject(context) && isJsonObject(context['arguments']) ? context['arguments'] : {}
  ) as Record<string, string>;
  let completer: Completer | undefined;
  if (ref['type'] === 'ref/prompt') {
    const name = requireString(ref, 'name', 'completion/complete ref');
    const prompt = core.registry.prompt(name);
    if (prompt === undefined) throw ProtocolError.of('InvalidParams', `Unknown prompt: ${name}`);
    completer = prompt.complete?.[argName];
  } else if (ref['type'] === 'ref/resource') {
    const uri = requireString(ref, 'uri', 'completion/complete ref');
    const template = core.registry.templateFor(uri);
    if (template === undefined) {
      throw ProtocolError.of('InvalidParams', `Unknown resource template: ${uri}`);
    }
    completer = template.complete?.[argName];
    // The partial value and the context are values of the template's variables: the same
    // rule as resources/read keeps a path completer inside what the template may name.
    const problem =
      templateVariablesProblem(template, given, false) ??
      templateVariablesProblem(template, { [argName]: value }, false);
    if (problem !== undefined) {
      throw ProtocolError.of('InvalidParams', `Invalid completion argument: ${problem}`);
    }
  } else {
    throw ProtocolError.of('InvalidParams', 'completion/complete: unknown ref type');
  }
  if (completer === undefined) {
    return complete({ completion: { values: [], total: 0, hasMore: false } }, ctx);
  }
  const all = await completer(value, {
    arguments: given,
    principal: ctx.principal,
    list: (method) => visibleItems(core, params, ctx, abort, method),
  });
  const values = all.length > MAX_COMPLETIONS ? all.slice(0, MAX_COMPLETIONS) : [...all];
  return complete(
    { completion: { values, total: all.length, hasMore: all.length > MAX_COMPLETIONS } },
    ctx,
  );
};

/** Where each list method's result holds its items. */
const LIST_FIELDS: Readonly<Record<CompletionListMethod, string>> = {
  'tools/list': 'tools',
  'prompts/list': 'prompts',
  'resources/list': 'resources',
  'resources/templates/list': 'resourceTemplates',
};

/**
 * Every item of a list method as the caller sees it: the registry's, through the list
 * filter an authorization layer installed for this request (the one its list results pass).
 */
async function visibleItems(
  core: EngineCore,
  params: JsonObject,
  ctx: RequestContext,
  abort: SignalSource,
  method: CompletionListMethod,
): Promise<readonly JsonObject[]> {
  const r = core.registry;
  let items: readonly unknown[];
  switch (method) {
    case 'tools/list':
      items = r.toolDescriptors;
      break;
    case 'prompts/list':
      items = r.promptDescriptors;
      break;
    case 'resources/list':
      items = await allResources(core, params, ctx, abort);
      break;
    case 'resources/templates/list':
      items = r.templateDescriptors;
      break;
  }
  const filter = listFilterOf(ctx);
  if (filter !== undefined) {
    const field = LIST_FIELDS[method];
    const kept = filter(method, { [field]: items })[field];
    // A filter that answers in another shape shows nothing rather than everything.
    items = Array.isArray(kept) ? kept : [];
  }
  return items.filter(isJsonObject);
}
