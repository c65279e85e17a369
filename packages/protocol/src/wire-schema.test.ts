/**
 * Error replies built from this package's errors validate against the typed error
 * definitions of the 2026-07-28 schema (fixtures 2.3: the suite checks -32020/-32021/-32022
 * replies against them).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { readSchemaFile } from '@mcp-cluster/test-support';
import { classifyPost } from './era.js';
import { ProtocolError, RpcError, toWireError } from './errors.js';
import { validateRoutingHeaders } from './headers.js';

const schema = readSchemaFile('2026-07-28');
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema({ ...schema, $id: 'mcp://2026-07-28' });

function validate(definition: string, value: unknown): void {
  const fn = ajv.compile({ $ref: `mcp://2026-07-28#/$defs/${definition}` });
  expect(fn(value), JSON.stringify(fn.errors)).toBe(true);
}

function reply(id: number, fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return { jsonrpc: '2.0', id, error: toWireError(err) };
  }
  throw new Error('expected a throw');
}

const meta = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

describe('2026-07-28 wire schema of error replies', () => {
  it('-32022 from classifyPost is an UnsupportedProtocolVersionError', () => {
    const r = reply(301, () =>
      classifyPost({
        protocolVersionHeader: 'v999.0.0',
        message: {
          jsonrpc: '2.0',
          id: 301,
          method: 'server/discover',
          params: { _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' } },
        },
      }),
    );
    validate('UnsupportedProtocolVersionError', r);
    validate('JSONRPCErrorResponse', r);
  });

  it('-32020 from classifyPost and validateRoutingHeaders is a HeaderMismatchError', () => {
    const message = {
      jsonrpc: '2.0',
      id: 302,
      method: 'tools/list',
      params: { _meta: meta },
    } as const;
    validate(
      'HeaderMismatchError',
      reply(302, () => classifyPost({ message })),
    );
    validate(
      'HeaderMismatchError',
      reply(302, () => validateRoutingHeaders(message, () => undefined)),
    );
  });

  it('-32602 from classifyPost is a JSON-RPC error response with InvalidParamsError', () => {
    const r = reply(101, () =>
      classifyPost({
        protocolVersionHeader: '2026-07-28',
        message: { jsonrpc: '2.0', id: 101, method: 'server/discover', params: {} },
      }),
    ) as { error: unknown };
    validate('JSONRPCErrorResponse', r);
    validate('InvalidParamsError', r.error);
  });

  it('a -32021 ProtocolError with requiredCapabilities is a MissingRequiredClientCapabilityError', () => {
    const err = ProtocolError.of('MissingCapability', undefined, {
      requiredCapabilities: { sampling: {} },
    });
    validate('MissingRequiredClientCapabilityError', {
      jsonrpc: '2.0',
      id: 401,
      error: toWireError(err),
    });
  });

  it('catch-all -32603 is an InternalError', () => {
    validate('InternalError', toWireError(new Error('boom')));
    expect(toWireError(new Error('boom')).code).toBe(RpcError.InternalError.code);
  });
});
