/** Compile-time checks of the handler types the component API infers (run by tsc). */
import type { HandlerContext, ToolReturn } from '@mcp-cluster/server';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { definePrompt } from './prompt.js';
import { defineResourceTemplate } from './resource.js';
import { defineTool } from './tool.js';
import type { TemplateVariables } from './uri-template.js';

describe('inferred handler types', () => {
  it('types tool arguments from zod (output side: defaults applied)', () => {
    defineTool({
      name: 't',
      description: 'd',
      input: z.object({ a: z.string(), n: z.number().default(1), o: z.boolean().optional() }),
      handler: (args, ctx) => {
        expectTypeOf(args).toEqualTypeOf<{ a: string; n: number; o?: boolean | undefined }>();
        expectTypeOf(ctx).toEqualTypeOf<HandlerContext>();
        return args.a;
      },
    });
  });

  it('types plain JSON Schema arguments as a record, and no input as an empty record', () => {
    defineTool({
      name: 't',
      description: 'd',
      input: { type: 'object', properties: { a: { type: 'string' } } },
      handler: (args) => {
        expectTypeOf(args).toEqualTypeOf<Record<string, unknown>>();
        return 'x';
      },
    });
    defineTool({
      name: 't',
      description: 'd',
      handler: (args) => {
        expectTypeOf(args).toEqualTypeOf<Record<string, never>>();
        return 'x';
      },
    });
  });

  it('lets an output tool return its structured value, and passes prepare() values through', () => {
    defineTool({
      name: 't',
      description: 'd',
      output: z.object({ v: z.number() }),
      handler: () => ({ v: 1 }),
    });
    defineTool({
      name: 't',
      description: 'd',
      prepare: () => Promise.resolve(42),
      handler: (_args, _ctx, prepared) => {
        expectTypeOf(prepared).toEqualTypeOf<number>();
        return 'x';
      },
    });
    const handler = (): ToolReturn => 'x';
    defineTool({ name: 't', description: 'd', handler });
  });

  it('types prompt arguments and template variables', () => {
    definePrompt({
      name: 'p',
      description: 'd',
      arguments: z.object({ text: z.string(), tone: z.string().optional() }),
      get: (args) => {
        expectTypeOf(args).toEqualTypeOf<{ text: string; tone?: string | undefined }>();
        return args.text;
      },
    });
    definePrompt({
      name: 'p',
      description: 'd',
      arguments: [{ name: 'a', required: true }],
      get: (args) => {
        expectTypeOf(args).toEqualTypeOf<Record<string, string>>();
        return 'x';
      },
    });
    defineResourceTemplate({
      uriTemplate: 'x://{id}',
      name: 'x',
      read: (_uri, vars) => {
        expectTypeOf(vars).toEqualTypeOf<TemplateVariables>();
        return 'x';
      },
    });
  });
});
