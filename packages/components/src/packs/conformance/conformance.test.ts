import { createHash } from 'node:crypto';
import type { InputRequest, JsonObject } from '@mcp-cluster/protocol';
import { ProtocolError } from '@mcp-cluster/protocol';
import type {
  ComponentSpec,
  PromptSpec,
  ResourceSpec,
  ResourceTemplateSpec,
  ToolSpec,
} from '@mcp-cluster/server';
import { describe, expect, it } from 'vitest';
import { stubContext } from '../../test-helpers.js';
import { conformancePack } from './index.js';
import { SEP1034_REQUEST, SEP1330_REQUEST } from './tools-interactive.js';
import { JSON_SCHEMA_2020_12_INPUT } from './tools-content.js';

const tools = conformancePack.components.filter((c): c is ToolSpec => c.kind === 'tool');
const tool = (name: string): ToolSpec => {
  const t = tools.find((c) => c.descriptor.name === name);
  if (!t) throw new Error(`no tool ${name}`);
  return t;
};
const prompt = (name: string): PromptSpec =>
  conformancePack.components.find(
    (c): c is PromptSpec => c.kind === 'prompt' && c.descriptor.name === name,
  ) as PromptSpec;
const resource = (uri: string): ResourceSpec =>
  conformancePack.components.find(
    (c): c is ResourceSpec => c.kind === 'resource' && c.descriptor.uri === uri,
  ) as ResourceSpec;

async function call(name: string, args: unknown = undefined, ctx = stubContext()) {
  const t = tool(name);
  const checked = t.validateInput(args);
  if (!checked.ok) throw new Error(checked.issues.join('; '));
  return t.run(checked.value, ctx);
}

/** Answers input requests like the conformance client does. */
function clientAnswer(key: string, req: InputRequest): JsonObject {
  switch (req.method) {
    case 'elicitation/create':
      return {
        action: 'accept',
        content: { name: 'Alice', color: 'blue', context: 'test context', ok: true, value: 'v' },
      };
    case 'sampling/createMessage':
      return {
        role: 'assistant',
        content: { type: 'text', text: `answer to ${key}` },
        model: 'test-model',
        stopReason: 'endTurn',
      };
    case 'roots/list':
      return { roots: [{ uri: 'file:///test/root', name: 'Test Root' }] };
  }
}

describe('conformance pack: server-wide requirements (section 3)', () => {
  it('lists test_simple_text first, and it succeeds with {}', async () => {
    expect(tools[0]?.descriptor.name).toBe('test_simple_text');
    expect(await call('test_simple_text', {})).toBe('This is a simple text response for testing.');
  });

  it('gives every tool a description and an object inputSchema, and valid names', () => {
    for (const t of tools) {
      expect(t.descriptor.description, t.descriptor.name).toBeTruthy();
      expect(t.descriptor.inputSchema['type']).toBe('object');
      expect(t.descriptor.name).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
    }
  });

  it('gives every prompt a description and every resource a uri and name', () => {
    for (const c of conformancePack.components) {
      if (c.kind === 'prompt') expect(c.descriptor.description).toBeTruthy();
      if (c.kind === 'resource') expect(c.descriptor.name && c.descriptor.uri).toBeTruthy();
    }
  });

  it('contains every fixture of section 4', () => {
    const key = (c: ComponentSpec): string => {
      switch (c.kind) {
        case 'resource':
          return c.descriptor.uri;
        case 'resourceTemplate':
          return c.descriptor.uriTemplate;
        default:
          return c.descriptor.name;
      }
    };
    const names = (kind: ComponentSpec['kind']) =>
      conformancePack.components.filter((c) => c.kind === kind).map(key);
    expect(names('tool')).toEqual(
      expect.arrayContaining([
        'test_simple_text',
        'test_image_content',
        'test_audio_content',
        'test_embedded_resource',
        'test_multiple_content_types',
        'test_tool_with_logging',
        'test_tool_with_progress',
        'test_error_handling',
        'test_sampling',
        'test_elicitation',
        'test_elicitation_sep1034_defaults',
        'test_elicitation_sep1330_enums',
        'json_schema_2020_12_tool',
        'test_reconnection',
        'test_custom_headers',
        'test_missing_capability',
        'test_streaming_elicitation',
        'test_logging_tool',
        'test_trigger_tool_change',
        'test_trigger_prompt_change',
        'test_input_required_result_elicitation',
        'test_input_required_result_sampling',
        'test_input_required_result_list_roots',
        'test_input_required_result_request_state',
        'test_input_required_result_multiple_inputs',
        'test_input_required_result_multi_round',
        'test_input_required_result_tampered_state',
        'test_input_required_result_capabilities',
        'greet',
        'slow_compute',
        'failing_job',
        'protocol_error_job',
        'confirm_delete',
        'multi_input',
        'test_tool_with_task',
      ]),
    );
    expect(names('resource')).toEqual([
      'test://static-text',
      'test://static-binary',
      'test://watched-resource',
      'skill://pdf-processing/SKILL.md',
      'skill://pdf-processing/references/FORMS.md',
    ]);
    expect(names('resourceTemplate')).toEqual(['test://template/{id}/data']);
    expect(names('prompt')).toEqual([
      'test_simple_prompt',
      'test_prompt_with_arguments',
      'test_prompt_with_embedded_resource',
      'test_prompt_with_image',
      'test_input_required_result_prompt',
    ]);
  });

  it('makes test_custom_headers the first x-mcp-header tool, with a string header, all optional', () => {
    const withHeader = tools.filter((t) =>
      JSON.stringify(t.descriptor.inputSchema).includes('x-mcp-header'),
    );
    expect(withHeader.map((t) => t.descriptor.name)).toEqual(['test_custom_headers']);
    const schema = withHeader[0]?.descriptor.inputSchema as {
      properties: Record<string, { type: string; 'x-mcp-header'?: string }>;
      required?: string[];
    };
    expect(schema.properties['region']).toMatchObject({ type: 'string', 'x-mcp-header': 'Region' });
    expect(schema.properties['priority']).toMatchObject({
      type: 'integer',
      'x-mcp-header': 'Priority',
    });
    expect(schema.required).toBeUndefined();
    expect(tool('test_custom_headers').validateInput({ region: 'Hello', priority: 0 }).ok).toBe(
      true,
    );
  });

  it('declares listChanged/subscribe and the skills extension with directoryRead', () => {
    expect(conformancePack.capabilities).toEqual({
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      extensions: { 'io.modelcontextprotocol/skills': { directoryRead: true } },
    });
  });
});

describe('conformance pack: 4.1 tools', () => {
  it('returns the content fixtures', async () => {
    expect(await call('test_image_content', {})).toMatchObject({
      type: 'image',
      mimeType: 'image/png',
    });
    expect(await call('test_audio_content', {})).toMatchObject({
      type: 'audio',
      mimeType: 'audio/wav',
    });
    expect(await call('test_embedded_resource', {})).toEqual({
      type: 'resource',
      resource: {
        uri: 'test://embedded-resource',
        mimeType: 'text/plain',
        text: 'This is an embedded resource content.',
      },
    });
    const mixed = (await call('test_multiple_content_types', {})) as { type: string }[];
    expect(mixed.map((c) => c.type)).toEqual(['text', 'image', 'resource']);
    expect(await call('test_error_handling')).toEqual({
      isError: true,
      content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }],
    });
  });

  it('logs three info messages with gaps, then answers', async () => {
    const ctx = stubContext();
    const started = Date.now();
    expect(await call('test_tool_with_logging', {}, ctx)).toBe(
      'Tool with logging executed successfully',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(ctx.logs).toEqual([
      { level: 'info', data: 'Tool execution started' },
      { level: 'info', data: 'Tool processing data' },
      { level: 'info', data: 'Tool execution completed' },
    ]);
  });

  it('reports progress 0/50/100 and echoes the token', async () => {
    const ctx = stubContext({ meta: { progressToken: 'progress-test-1' } });
    expect(await call('test_tool_with_progress', {}, ctx)).toBe('progress-test-1');
    expect(ctx.progressed).toEqual([
      { progress: 0, total: 100, message: 'Completed step 0 of 100' },
      { progress: 50, total: 100, message: 'Completed step 50 of 100' },
      { progress: 100, total: 100, message: 'Completed step 100 of 100' },
    ]);
    expect(
      await call('test_tool_with_progress', {}, stubContext({ meta: { progressToken: 7 } })),
    ).toBe('7');
  });

  it('stops promptly when cancelled', async () => {
    const ac = new AbortController();
    const pending = call('test_tool_with_logging', {}, stubContext({ signal: ac.signal }));
    ac.abort();
    await expect(pending).rejects.toThrow();
  });

  it('samples with the prompt and reports client errors as text', async () => {
    const ctx = stubContext({ answer: clientAnswer });
    expect(await call('test_sampling', { prompt: 'Test prompt for sampling' }, ctx)).toBe(
      'LLM response: answer to sampling',
    );
    expect(ctx.asked[0]).toEqual({
      sampling: {
        method: 'sampling/createMessage',
        params: {
          messages: [{ role: 'user', content: { type: 'text', text: 'Test prompt for sampling' } }],
          maxTokens: 100,
        },
      },
    });
    const refusing = stubContext({
      answer: () => {
        throw new ProtocolError(-1, 'User rejected sampling request');
      },
    });
    expect(await call('test_sampling', { prompt: 'x' }, refusing)).toBe(
      'Sampling not supported or error: User rejected sampling request',
    );
    expect(() => tool('test_sampling').validateInput({})).not.toThrow();
    expect(tool('test_sampling').validateInput({}).ok).toBe(false);
  });

  it('propagates non-protocol failures of ctx.input (e.g. the MRTR signal)', async () => {
    // The engine's MRTR signal is deliberately not an Error; anything but ProtocolError passes.
    const signal = new Error('input pending');
    const ctx = stubContext({
      answer: () => {
        throw signal;
      },
    });
    await expect(call('test_sampling', { prompt: 'x' }, ctx)).rejects.toBe(signal);
  });

  it('elicits and summarizes the answer', async () => {
    const ctx = stubContext({
      answer: () => ({
        action: 'accept',
        content: { username: 'testuser', email: 'test@example.com' },
      }),
    });
    expect(
      await call('test_elicitation', { message: 'Please provide your information' }, ctx),
    ).toBe(
      'User response: action=accept, content={"username":"testuser","email":"test@example.com"}',
    );
    const params = ctx.asked[0]?.['elicitation']?.params;
    expect(params).toEqual({
      message: 'Please provide your information',
      requestedSchema: {
        type: 'object',
        properties: { response: { type: 'string', description: "User's response" } },
        required: ['response'],
      },
    });
    const declined = stubContext({ answer: () => ({ action: 'decline' }) });
    expect(await call('test_elicitation', { message: 'm' }, declined)).toBe(
      'User response: action=decline, content={}',
    );
  });

  it('sends the SEP-1034 defaults and SEP-1330 enum schemas exactly', async () => {
    const ctx = stubContext({
      answer: () => ({ action: 'accept', content: { name: 'Jane Smith' } }),
    });
    expect(await call('test_elicitation_sep1034_defaults', {}, ctx)).toBe(
      'Elicitation completed: action=accept, content={"name":"Jane Smith"}',
    );
    await call('test_elicitation_sep1330_enums', {}, ctx);
    expect(ctx.asked.map((a) => a['elicitation']?.params)).toEqual([
      SEP1034_REQUEST,
      SEP1330_REQUEST,
    ]);

    const props = SEP1034_REQUEST.requestedSchema.properties;
    expect(props.name).toEqual({ type: 'string', description: 'User name', default: 'John Doe' });
    expect(props.age).toEqual({ type: 'integer', description: 'User age', default: 30 });
    expect(props.score).toEqual({ type: 'number', description: 'User score', default: 95.5 });
    expect(props.status.enum).toContain(props.status.default);
    expect(props.verified).toEqual({
      type: 'boolean',
      description: 'Verification status',
      default: true,
    });

    const e = SEP1330_REQUEST.requestedSchema.properties;
    expect(e.untitledSingle).not.toHaveProperty('oneOf');
    expect(e.untitledSingle).not.toHaveProperty('enumNames');
    expect(e.titledSingle).not.toHaveProperty('enum');
    expect(e.legacyEnum.enumNames).toHaveLength(e.legacyEnum.enum.length);
    expect(e.untitledMulti.items).not.toHaveProperty('anyOf');
    expect(e.titledMulti.items).not.toHaveProperty('enum');
    for (const o of [...e.titledSingle.oneOf, ...e.titledMulti.items.anyOf]) {
      expect(typeof o.const).toBe('string');
      expect(typeof o.title).toBe('string');
    }
  });

  it('lists json_schema_2020_12_tool verbatim and validates leniently', async () => {
    const t = tool('json_schema_2020_12_tool');
    expect(t.descriptor.inputSchema).toEqual(JSON_SCHEMA_2020_12_INPUT);
    const s = t.descriptor.inputSchema as typeof JSON_SCHEMA_2020_12_INPUT;
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(s.$defs.address.$anchor).toBe('addressDef');
    expect(s.additionalProperties).toBe(false);
    expect(s.allOf[0].anyOf).toHaveLength(2);
    expect(s).toHaveProperty('if');
    expect(s).toHaveProperty('then');
    expect(s).toHaveProperty('else');
    expect(await call('json_schema_2020_12_tool', { contactMethod: 'email', email: 'a@b.c' })).toBe(
      'JSON Schema 2020-12 tool called with: {"contactMethod":"email","email":"a@b.c"}',
    );
    expect(t.validateInput({ contactMethod: 'phone' }).ok).toBe(false);
  });

  it('closes the stream before answering test_reconnection', async () => {
    const ctx = stubContext();
    const result = await call('test_reconnection', {}, ctx);
    expect(ctx.closedStreams).toBe(1);
    expect(result).toMatch(/^Reconnection test completed successfully\./);
  });
});

describe('conformance pack: 4.2 resources and prompts', () => {
  it('reads the static resources', async () => {
    const ctx = stubContext();
    expect(await resource('test://static-text').read('test://static-text', ctx)).toEqual({
      uri: 'test://static-text',
      mimeType: 'text/plain',
      text: 'This is the content of the static text resource.',
    });
    expect(await resource('test://static-binary').read('test://static-binary', ctx)).toMatchObject({
      mimeType: 'image/png',
      blob: expect.any(String),
    });
    expect(
      await resource('test://watched-resource').read('test://watched-resource', ctx),
    ).toMatchObject({
      text: 'Watched resource content',
    });
  });

  it('matches and reads the template', async () => {
    const t = conformancePack.components.find(
      (c): c is ResourceTemplateSpec => c.kind === 'resourceTemplate',
    ) as ResourceTemplateSpec;
    expect(t.descriptor).toMatchObject({ name: 'template', mimeType: 'application/json' });
    const vars = t.match('test://template/123/data');
    expect(vars).toEqual({ id: '123' });
    expect(await t.read('test://template/123/data', vars ?? {}, stubContext())).toEqual({
      uri: 'test://template/123/data',
      mimeType: 'application/json',
      text: '{"id":"123","templateTest":true,"data":"Data for ID: 123"}',
    });
    expect(await t.complete?.['id']?.('1', { arguments: {} })).toEqual([]);
  });

  it('returns the prompt messages', async () => {
    const ctx = stubContext();
    expect(await prompt('test_simple_prompt').get({}, ctx)).toEqual([
      { role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } },
    ]);
    const withArgs = prompt('test_prompt_with_arguments');
    expect(withArgs.descriptor.arguments).toEqual([
      { name: 'arg1', description: 'First test argument', required: true },
      { name: 'arg2', description: 'Second test argument', required: true },
    ]);
    expect(withArgs.validateArguments({ arg1: 'x' }).ok).toBe(false);
    expect(await withArgs.get({ arg1: 'testValue1', arg2: 'testValue2' }, ctx)).toEqual([
      {
        role: 'user',
        content: {
          type: 'text',
          text: "Prompt with arguments: arg1='testValue1', arg2='testValue2'",
        },
      },
    ]);
    expect(await withArgs.complete?.['arg1']?.('test', { arguments: {} })).toEqual([]);
    const embedded = await prompt('test_prompt_with_embedded_resource').get(
      { resourceUri: 'test://example-resource' },
      ctx,
    );
    expect(embedded).toEqual([
      {
        role: 'user',
        content: {
          type: 'resource',
          resource: {
            uri: 'test://example-resource',
            mimeType: 'text/plain',
            text: 'Embedded resource content for testing.',
          },
        },
      },
      {
        role: 'user',
        content: { type: 'text', text: 'Please process the embedded resource above.' },
      },
    ]);
    const image = (await prompt('test_prompt_with_image').get({}, ctx)) as {
      content: { type: string };
    }[];
    expect(image.map((m) => m.content.type)).toEqual(['image', 'text']);
  });
});

describe('conformance pack: 4.3 modern diagnostics and MRTR', () => {
  it('fails test_missing_capability with -32021 and an object payload', async () => {
    const err = await call(
      'test_missing_capability',
      {},
      stubContext({ clientCapabilities: {} }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({ code: -32021, data: { requiredCapabilities: { sampling: {} } } });
    expect(await call('test_missing_capability', {}, stubContext())).toBe('Success');
  });

  it('streams without requests, logs through ctx.log, and triggers list changes', async () => {
    const ctx = stubContext({ meta: { progressToken: 1 } });
    expect(await call('test_streaming_elicitation', {}, ctx)).toBe('Streaming complete');
    expect(ctx.asked).toEqual([]);
    expect(ctx.progressed).toHaveLength(1);
    expect(await call('test_logging_tool', {}, ctx)).toBe('Logging evaluated');
    expect(ctx.logs).toHaveLength(1);
    expect(await call('test_trigger_tool_change', {}, ctx)).toBe('Mutation triggered');
    expect(await call('test_trigger_prompt_change', {}, ctx)).toBe('Mutation triggered');
    expect(ctx.changes).toEqual([{ type: 'tools/list_changed' }, { type: 'prompts/list_changed' }]);
  });

  it('asks with the exact keys and builds the final texts', async () => {
    const run = async (name: string) => {
      const ctx = stubContext({ answer: clientAnswer });
      const text = await call(name, {}, ctx);
      return { text, asked: ctx.asked };
    };
    const elicit = await run('test_input_required_result_elicitation');
    expect(elicit.text).toBe('Hello, Alice!');
    expect(elicit.asked).toEqual([
      {
        user_name: {
          method: 'elicitation/create',
          params: {
            message: 'What is your name?',
            requestedSchema: {
              type: 'object',
              properties: { name: { type: 'string' } },
              required: ['name'],
            },
          },
        },
      },
    ]);
    const sampling = await run('test_input_required_result_sampling');
    expect(sampling.text).toBe('Sampling result: answer to sample_request');
    expect(sampling.asked[0]?.['sample_request']?.method).toBe('sampling/createMessage');
    expect((await run('test_input_required_result_list_roots')).text).toBe('Found 1 root(s)');
    const state = await run('test_input_required_result_request_state');
    expect(state.text).toBe('state-ok: requestState validated');
    expect(Object.keys(state.asked[0] ?? {})).toEqual(['confirm']);
    const multiple = await run('test_input_required_result_multiple_inputs');
    expect(Object.values(multiple.asked[0] ?? {}).map((r) => r.method)).toEqual([
      'elicitation/create',
      'sampling/createMessage',
      'roots/list',
    ]);
    expect(multiple.text).toBe('Name: Alice; Greeting: answer to greeting; Roots: 1');
    const rounds = await run('test_input_required_result_multi_round');
    expect(rounds.asked.map((a) => Object.keys(a))).toEqual([['step1'], ['step2']]);
    expect(rounds.text).toBe('Multi-round complete for Alice who likes blue');
    expect((await run('test_input_required_result_tampered_state')).text).toBe(
      'integrity-ok: state verified',
    );
  });

  it('asks only for declared capabilities', async () => {
    const samplingOnly = stubContext({
      clientCapabilities: { sampling: {} },
      answer: clientAnswer,
    });
    expect(await call('test_input_required_result_capabilities', {}, samplingOnly)).toBe(
      'capabilities-ok: received sample_input',
    );
    expect(Object.values(samplingOnly.asked[0] ?? {}).map((r) => r.method)).toEqual([
      'sampling/createMessage',
    ]);
    const none = stubContext({ clientCapabilities: {} });
    expect(await call('test_input_required_result_capabilities', {}, none)).toBe(
      'No supported capabilities declared',
    );
    expect(none.asked).toEqual([]);
  });

  it('asks for context in the MRTR prompt', async () => {
    const ctx = stubContext({ answer: clientAnswer });
    expect(await prompt('test_input_required_result_prompt').get({}, ctx)).toEqual([
      { role: 'user', content: { type: 'text', text: 'Prompt with context: test context' } },
    ]);
    expect(Object.keys(ctx.asked[0] ?? {})).toEqual(['user_context']);
  });
});

describe('conformance pack: 4.4 tasks fixtures', () => {
  it('declares task support per fixture', () => {
    expect(
      Object.fromEntries(
        [
          'greet',
          'slow_compute',
          'failing_job',
          'protocol_error_job',
          'confirm_delete',
          'multi_input',
          'test_tool_with_task',
        ].map((n) => [n, tool(n).taskSupport]),
      ),
    ).toEqual({
      greet: 'forbidden',
      slow_compute: 'optional',
      failing_job: 'required',
      protocol_error_job: 'required',
      confirm_delete: 'optional',
      multi_input: 'optional',
      test_tool_with_task: 'required',
    });
  });

  it('greets, computes and is cancellable', async () => {
    expect(await call('greet', { name: 'sep-2243' })).toBe('Hello, sep-2243!');
    expect(await call('slow_compute', { seconds: 0 })).toBe('Computed result in 0s');
    expect(await call('slow_compute', { seconds: 0, label: 'x' })).toBe('Computed x in 0s');
    const ac = new AbortController();
    const started = Date.now();
    const pending = call('slow_compute', { seconds: 60 }, stubContext({ signal: ac.signal }));
    setImmediate(() => ac.abort());
    await expect(pending).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('fails as a tool error or a protocol error', async () => {
    expect(await call('failing_job')).toMatchObject({ isError: true });
    await expect(call('protocol_error_job')).rejects.toBeInstanceOf(ProtocolError);
  });

  it('asks for confirmation and for two inputs at once', async () => {
    const ctx = stubContext({ answer: () => ({ action: 'accept', content: { confirm: true } }) });
    expect(await call('confirm_delete', { filename: 'a.txt' }, ctx)).toBe('Deleted a.txt');
    expect(Object.values(ctx.asked[0] ?? {}).map((r) => r.method)).toEqual(['elicitation/create']);
    const two = stubContext({ answer: clientAnswer });
    await call('multi_input', {}, two);
    expect(Object.keys(two.asked[0] ?? {})).toHaveLength(2);
  });

  it('asks for the name in prepare and uses it in the task', async () => {
    const t = tool('test_tool_with_task');
    const ctx = stubContext({ answer: clientAnswer });
    const name = await t.prepare?.({}, ctx);
    expect(Object.keys(ctx.asked[0] ?? {})).toEqual(['user_name']);
    expect(await t.run({}, stubContext(), name)).toContain('Alice');
  });
});

describe('conformance pack: 4.6 skills', () => {
  const method = (name: string) => {
    const m = conformancePack.methods?.find((x) => x.method === name);
    if (!m) throw new Error(`no method ${name}`);
    return (params: JsonObject) => m.run(params, stubContext({ era: 'modern' }));
  };
  const sha = (text: string) => `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
  const SKILL_MD =
    '---\nname: pdf-processing\ndescription: Extract, fill, and assemble PDF documents\n---\n\nSkill body.\n';

  it('lists the skill with digests and sizes of both files', async () => {
    const entry = {
      uri: 'skill://pdf-processing/SKILL.md',
      frontmatter: {
        name: 'pdf-processing',
        description: 'Extract, fill, and assemble PDF documents',
      },
      resources: [
        { uri: 'skill://pdf-processing/SKILL.md', digest: sha(SKILL_MD), size: SKILL_MD.length },
        {
          uri: 'skill://pdf-processing/references/FORMS.md',
          digest: sha('Supporting content.\n'),
          size: 20,
        },
      ],
    };
    expect(await method('skills/list')({})).toEqual({ skills: [entry] });
    expect(await method('skills/list')({ cursor: 'x' })).toEqual({ skills: [entry] });
    expect(await method('skills/get')({ uri: entry.uri })).toEqual({ skill: entry });
    for (const r of entry.resources) expect(r.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(conformancePack.methods?.filter((m) => m.cacheable).map((m) => m.method)).toEqual([
      'skills/list',
      'skills/get',
    ]);
  });

  it('answers -32602 for unknown skills and non-directories', async () => {
    const unknown = 'skill://mcp-conformance-nonexistent-skill-9f3a2b/SKILL.md';
    await expect(
      Promise.resolve().then(() => method('skills/get')({ uri: unknown })),
    ).rejects.toMatchObject({
      code: -32602,
    });
    await expect(
      Promise.resolve().then(() =>
        method('resources/directory/read')({ uri: 'skill://pdf-processing/SKILL.md' }),
      ),
    ).rejects.toMatchObject({ code: -32602 });
    await expect(Promise.resolve().then(() => method('skills/get')({}))).rejects.toMatchObject({
      code: -32602,
    });
  });

  it('reads directories, with a subdirectory', async () => {
    expect(await method('resources/directory/read')({ uri: 'skill://pdf-processing' })).toEqual({
      resources: [
        { uri: 'skill://pdf-processing/SKILL.md', name: 'SKILL.md', mimeType: 'text/markdown' },
        {
          uri: 'skill://pdf-processing/references',
          name: 'references',
          mimeType: 'inode/directory',
        },
      ],
    });
    expect(
      await method('resources/directory/read')({ uri: 'skill://pdf-processing/references/' }),
    ).toEqual({
      resources: [
        {
          uri: 'skill://pdf-processing/references/FORMS.md',
          name: 'FORMS.md',
          mimeType: 'text/markdown',
        },
      ],
    });
  });

  it('serves SKILL.md as a listed markdown resource named after the skill', async () => {
    const r = resource('skill://pdf-processing/SKILL.md');
    expect(r.descriptor).toMatchObject({
      name: 'pdf-processing',
      description: 'Extract, fill, and assemble PDF documents',
      mimeType: 'text/markdown',
    });
    expect(await r.read(r.descriptor.uri, stubContext())).toEqual({
      uri: 'skill://pdf-processing/SKILL.md',
      mimeType: 'text/markdown',
      text: SKILL_MD,
    });
    expect(
      await resource('skill://pdf-processing/references/FORMS.md').read(
        'skill://pdf-processing/references/FORMS.md',
        stubContext(),
      ),
    ).toMatchObject({ mimeType: 'text/markdown', text: 'Supporting content.\n' });
  });
});
