import { ProtocolError } from '@mcp-cluster/protocol';
import { ToolError } from '@mcp-cluster/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ComponentError } from './errors.js';
import { definePack } from './pack.js';
import { definePrompt } from './prompt.js';
import { defineResource, defineResourceTemplate, resourceNotFound } from './resource.js';
import { stubContext } from './test-helpers.js';
import { defineTool } from './tool.js';

const noop = () => 'ok';

describe('defineTool: names and required fields', () => {
  it.each(['a', 'get_user', 'ns.tool-name', 'A1_.-', 'x'.repeat(128)])('accepts %s', (name) => {
    expect(defineTool({ name, description: 'd', handler: noop }).descriptor.name).toBe(name);
  });

  it.each(['', 'has space', 'slash/name', 'ünï', 'x'.repeat(129), 'a,b', 'emoji😀'])(
    'rejects %j at definition time',
    (name) => {
      expect(() => defineTool({ name, description: 'd', handler: noop })).toThrow(ComponentError);
    },
  );

  it('requires a description and a handler', () => {
    expect(() => defineTool({ name: 't', description: '', handler: noop })).toThrow(/description/);
    expect(() =>
      defineTool({ name: 't', description: 'd', handler: undefined as unknown as () => string }),
    ).toThrow(/handler/);
  });
});

describe('defineTool: schemas', () => {
  it('lists an empty object schema and accepts missing arguments when there is no input', () => {
    const t = defineTool({ name: 't', description: 'd', handler: noop });
    expect(t.descriptor.inputSchema).toEqual({ type: 'object', properties: {} });
    expect(t.validateInput(undefined)).toEqual({ ok: true, value: {} });
    expect(t.validateInput({ extra: 1 })).toEqual({ ok: true, value: { extra: 1 } });
    expect(t.validateInput('nope').ok).toBe(false);
    expect(t.taskSupport).toBe('forbidden');
    expect(t.descriptor.execution).toBeUndefined();
    expect('validateOutput' in t).toBe(false);
  });

  it('converts zod to JSON Schema 2020-12 and validates with readable issues', () => {
    const t = defineTool({
      name: 't',
      description: 'd',
      input: z.object({
        name: z.string().describe('Who'),
        count: z.number().int().default(2),
        mode: z.enum(['a', 'b']).optional(),
      }),
      handler: ({ name, count }) => `${name}${count}`,
    });
    expect(t.descriptor.inputSchema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        name: { type: 'string', description: 'Who' },
        count: { type: 'integer', default: 2 },
        mode: { type: 'string', enum: ['a', 'b'] },
      },
      required: ['name'],
    });
    // zod defaults are applied to the value handed to the handler.
    expect(t.validateInput({ name: 'x' })).toEqual({ ok: true, value: { name: 'x', count: 2 } });
    const bad = t.validateInput({ count: 'two', mode: 'c' });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.issues).toHaveLength(3);
    expect(bad.issues[0]).toMatch(/^name: .*expected string/);
    expect(bad.issues[1]).toMatch(/^count: .*expected number/);
    expect(bad.issues[2]).toMatch(/^mode: /);
  });

  it('rejects non-object schemas at definition time', () => {
    expect(() =>
      defineTool({ name: 't', description: 'd', input: z.string(), handler: noop }),
    ).toThrow(/object/);
    expect(() =>
      defineTool({ name: 't', description: 'd', input: { type: 'array' }, handler: noop }),
    ).toThrow(/type "object"/);
  });

  it('lists a plain JSON Schema verbatim, as a private copy', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: { a: { $anchor: 'A', type: 'string' } },
      properties: { p: { $ref: '#/$defs/a', 'x-mcp-header': 'P' }, q: { type: 'integer' } },
      additionalProperties: false,
      if: { properties: { q: { const: 1 } }, required: ['q'] },
      then: { required: ['p'] },
      else: {},
      allOf: [{ anyOf: [{ required: ['p'] }, { required: ['q'] }] }],
    };
    const t = defineTool({ name: 't', description: 'd', input: schema, handler: noop });
    expect(t.descriptor.inputSchema).toEqual(schema);
    expect(Object.keys(t.descriptor.inputSchema)).toEqual(Object.keys(schema));
    schema.properties.q.type = 'string';
    expect(t.descriptor.inputSchema).toMatchObject({ properties: { q: { type: 'integer' } } });
  });

  it('validates plain JSON Schema with ajv 2020 (composition, conditionals, $ref)', () => {
    const t = defineTool({
      name: 't',
      description: 'd',
      input: {
        type: 'object',
        $defs: { s: { type: 'string', minLength: 2 } },
        properties: { kind: { enum: ['phone', 'email'] }, phone: { $ref: '#/$defs/s' } },
        additionalProperties: false,
        if: { properties: { kind: { const: 'phone' } }, required: ['kind'] },
        then: { required: ['phone'] },
      },
      handler: noop,
    });
    expect(t.validateInput({ kind: 'phone', phone: '12' }).ok).toBe(true);
    expect(t.validateInput(undefined).ok).toBe(true);
    const missing = t.validateInput({ kind: 'phone' });
    expect(missing).toMatchObject({ ok: false });
    if (!missing.ok) expect(missing.issues.join(' ')).toMatch(/phone/);
    const extra = t.validateInput({ other: 1 });
    expect(extra).toEqual({ ok: false, issues: ['must NOT have additional properties (other)'] });
    const short = t.validateInput({ phone: 'x' });
    expect(short).toEqual({ ok: false, issues: ['phone: must NOT have fewer than 2 characters'] });
  });

  it('tolerates schemas with the same $id and other dialects', () => {
    const make = (name: string) =>
      defineTool({
        name,
        description: 'd',
        input: {
          $schema: 'http://json-schema.org/draft-07/schema#',
          $id: 'https://example.com/schemas/same',
          type: 'object',
          properties: { a: { type: 'string' } },
        },
        handler: noop,
      });
    const [a, b] = [make('a'), make('b')];
    expect(a.validateInput({ a: 'x' }).ok).toBe(true);
    expect(b.validateInput({ a: 1 }).ok).toBe(false);
  });

  it('declares outputSchema, validates output and wraps a plain structured return', async () => {
    const t = defineTool({
      name: 't',
      description: 'd',
      input: z.object({ n: z.number() }),
      output: z.object({ doubled: z.number() }),
      handler: ({ n }) => ({ doubled: n * 2 }),
    });
    expect(t.descriptor.outputSchema).toMatchObject({
      type: 'object',
      properties: { doubled: { type: 'number' } },
      required: ['doubled'],
    });
    // No additionalProperties:false: the engine sends structuredContent as returned.
    expect(t.descriptor.outputSchema).not.toHaveProperty('additionalProperties');
    expect(await t.run({ n: 2 }, stubContext())).toEqual({
      content: [{ type: 'text', text: '{"doubled":4}' }],
      structuredContent: { doubled: 4 },
    });
    expect(t.validateOutput?.({ doubled: 4 })).toEqual({ ok: true, value: { doubled: 4 } });
    expect(t.validateOutput?.({ doubled: 'x' }).ok).toBe(false);
  });

  it('passes a full CallToolResult through even with an output schema', async () => {
    const result = { content: [], structuredContent: { v: 1 } };
    const t = defineTool({
      name: 't',
      description: 'd',
      output: { type: 'object', properties: { v: { type: 'number' } } },
      handler: () => result,
    });
    expect(await t.run({}, stubContext())).toBe(result);
  });
});

describe('defineTool: descriptor and run', () => {
  it('builds the descriptor in listing order with optional fields', () => {
    const t = defineTool({
      name: 't',
      title: 'T',
      description: 'd',
      annotations: { readOnlyHint: true },
      icons: [{ src: 'https://x/icon.png' }],
      meta: { 'com.example/k': 1 },
      taskSupport: 'optional',
      handler: noop,
    });
    expect(Object.keys(t.descriptor)).toEqual([
      'name',
      'title',
      'description',
      'inputSchema',
      'annotations',
      'icons',
      'execution',
      '_meta',
    ]);
    expect(t.descriptor.execution).toEqual({ taskSupport: 'optional' });
    expect(t.taskSupport).toBe('optional');
    expect(Object.isFrozen(t)).toBe(true);
  });

  it('turns a ToolError into an isError result and lets other errors through', async () => {
    const failing = defineTool({
      name: 't',
      description: 'd',
      handler: () => {
        throw new ToolError('bad input, try again');
      },
    });
    expect(await failing.run({}, stubContext())).toEqual({
      content: [{ type: 'text', text: 'bad input, try again' }],
      isError: true,
    });
    const crashing = defineTool({
      name: 't',
      description: 'd',
      handler: () => {
        throw new ProtocolError(-32021, 'x');
      },
    });
    expect(() => crashing.run({}, stubContext())).toThrow(ProtocolError);
    const asyncFailing = defineTool({
      name: 't',
      description: 'd',
      handler: () => Promise.reject(new ToolError('later')),
    });
    expect(await asyncFailing.run({}, stubContext())).toMatchObject({ isError: true });
    const asyncCrashing = defineTool({
      name: 't',
      description: 'd',
      handler: () => Promise.reject(new Error('internal')),
    });
    await expect(asyncCrashing.run({}, stubContext())).rejects.toThrow('internal');
    // Sync handlers answer synchronously (no promise on the hot path).
    expect(
      defineTool({ name: 't', description: 'd', handler: () => 'x' }).run({}, stubContext()),
    ).toBe('x');
  });

  it('hands prepare() its value to the handler', async () => {
    const t = defineTool({
      name: 't',
      description: 'd',
      input: z.object({ a: z.string() }),
      taskSupport: 'required',
      prepare: ({ a }) => Promise.resolve(a.length),
      handler: ({ a }, _ctx, len) => `${a}:${len}`,
    });
    const ctx = stubContext();
    const prepared = await t.prepare?.({ a: 'abc' }, ctx);
    expect(prepared).toBe(3);
    expect(await t.run({ a: 'abc' }, ctx, prepared)).toBe('abc:3');
  });
});

describe('defineResource / defineResourceTemplate', () => {
  it('builds resource descriptors and checks the uri', async () => {
    const r = defineResource({
      uri: 'time://now',
      name: 'now',
      mimeType: 'text/plain',
      size: 3,
      read: () => 'abc',
    });
    expect(r.kind).toBe('resource');
    expect(r.descriptor).toEqual({
      uri: 'time://now',
      name: 'now',
      mimeType: 'text/plain',
      size: 3,
    });
    expect(await r.read('time://now', stubContext())).toBe('abc');
    expect(() => defineResource({ uri: 'relative', name: 'x', read: () => '' })).toThrow(
      ComponentError,
    );
    expect(() => defineResource({ uri: 'a://b', name: '', read: () => '' })).toThrow(/name/);
  });

  it('matches templates and keeps completers and listings', async () => {
    const t = defineResourceTemplate({
      uriTemplate: 'notes://{id}',
      name: 'note',
      complete: { id: (v) => ['alpha', 'beta'].filter((x) => x.startsWith(v)) },
      list: () => [{ uri: 'notes://alpha', name: 'alpha' }],
      read: (uri, vars) => `${uri} ${JSON.stringify(vars)}`,
    });
    expect(t.descriptor).toEqual({ uriTemplate: 'notes://{id}', name: 'note' });
    expect(t.match('notes://alpha')).toEqual({ id: 'alpha' });
    expect(t.match('other://alpha')).toBeUndefined();
    expect(await t.complete?.['id']?.('a', { arguments: {} })).toEqual(['alpha']);
    expect(await t.list?.(stubContext())).toHaveLength(1);
    expect(await t.read('notes://x', { id: 'x' }, stubContext())).toBe('notes://x {"id":"x"}');
  });

  it('rejects bad templates and completers for unknown variables', () => {
    expect(() =>
      defineResourceTemplate({ uriTemplate: 'x://{id', name: 'n', read: () => '' }),
    ).toThrow(ComponentError);
    expect(() =>
      defineResourceTemplate({
        uriTemplate: 'x://{id}',
        name: 'n',
        complete: { other: () => [] },
        read: () => '',
      }),
    ).toThrow(/unknown variable/);
  });

  it('resourceNotFound uses the era code and carries the uri', () => {
    expect(resourceNotFound('a://b', { era: 'legacy' })).toMatchObject({
      code: -32002,
      data: { uri: 'a://b' },
    });
    expect(resourceNotFound('a://b', { era: 'modern' })).toMatchObject({
      code: -32602,
      data: { uri: 'a://b' },
    });
  });
});

describe('definePrompt', () => {
  it('lists plain arguments and validates required/string values', () => {
    const p = definePrompt({
      name: 'p',
      description: 'd',
      arguments: [
        { name: 'a', description: 'A', required: true },
        { name: 'b', required: false },
      ],
      get: ({ a }) => `a=${a}`,
    });
    expect(p.descriptor).toEqual({
      name: 'p',
      description: 'd',
      arguments: [
        { name: 'a', description: 'A', required: true },
        { name: 'b', required: false },
      ],
    });
    expect(p.validateArguments({ a: 'x' })).toEqual({ ok: true, value: { a: 'x' } });
    expect(p.validateArguments(undefined)).toEqual({
      ok: false,
      issues: ['a: required argument is missing'],
    });
    expect(p.validateArguments({ a: 'x', b: 2 })).toEqual({
      ok: false,
      issues: ['b: must be a string'],
    });
    expect(p.validateArguments([])).toMatchObject({ ok: false });
  });

  it('derives arguments from a zod object', async () => {
    const p = definePrompt({
      name: 'p',
      description: 'd',
      arguments: z.object({ text: z.string().describe('The text'), tone: z.string().optional() }),
      complete: { tone: () => ['formal'] },
      get: ({ text, tone }) => `${text}/${tone ?? '-'}`,
    });
    expect(p.descriptor.arguments).toEqual([
      { name: 'text', description: 'The text', required: true },
      { name: 'tone', required: false },
    ]);
    expect(p.validateArguments({ text: 'hi' })).toEqual({ ok: true, value: { text: 'hi' } });
    expect(p.validateArguments({})).toMatchObject({
      ok: false,
      issues: [expect.stringMatching(/^text: /)],
    });
    expect(await p.get({ text: 'hi' }, stubContext())).toBe('hi/-');
    expect(p.complete?.['tone']).toBeTypeOf('function');
  });

  it('lists no arguments key for an argument-less prompt and rejects mistakes', () => {
    const p = definePrompt({ name: 'p', description: 'd', get: () => 'x' });
    expect(p.descriptor).toEqual({ name: 'p', description: 'd' });
    expect(p.validateArguments(undefined)).toEqual({ ok: true, value: {} });
    expect(() => definePrompt({ name: 'p', description: '', get: () => 'x' })).toThrow(
      /description/,
    );
    expect(() =>
      definePrompt({
        name: 'p',
        description: 'd',
        arguments: z.object({ n: z.number() }) as never,
        get: () => 'x',
      }),
    ).toThrow(/string/);
    expect(() =>
      definePrompt({ name: 'p', description: 'd', complete: { nope: () => [] }, get: () => 'x' }),
    ).toThrow(/unknown argument/);
  });
});

describe('definePack', () => {
  const tool = defineTool({ name: 't', description: 'd', handler: noop });

  it('freezes the pack and keeps optional fields', () => {
    const pack = definePack({
      name: 'p',
      instructions: 'use t',
      capabilities: { extensions: { 'x/y': {} } },
      methods: [{ method: 'x/list', run: () => ({}) }],
      components: [tool],
    });
    expect(pack).toMatchObject({ name: 'p', instructions: 'use t', components: [tool] });
    expect(pack.methods?.map((m) => m.method)).toEqual(['x/list']);
    expect(Object.isFrozen(pack)).toBe(true);
  });

  it('rejects duplicates and foreign objects', () => {
    expect(() => definePack({ name: 'p', components: [tool, tool] })).toThrow(/duplicate tool t/);
    expect(() => definePack({ name: 'p', components: [{ name: 'x' } as never] })).toThrow(
      /defineTool/,
    );
    expect(() => definePack({ name: '', components: [] })).toThrow(/name/);
    expect(() =>
      definePack({
        name: 'p',
        components: [],
        methods: [
          { method: 'a', run: () => ({}) },
          { method: 'a', run: () => ({}) },
        ],
      }),
    ).toThrow(/duplicate method a/);
  });
});
