import { verifies } from '@mcp-cluster/test-support';
import { describe, expect, it } from 'vitest';
import {
  classifyPost,
  isRemovedInModern,
  readModernMeta,
  replyIdOf,
  sessionRequiredError,
  REMOVED_IN_MODERN,
} from './era.js';
import type { EraDecision, PostInput } from './era.js';
import { ProtocolError } from './errors.js';
import type { JsonObject, JsonRpcMessage } from './jsonrpc.js';
import { validateParams } from './params.js';

const PV = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const INFO = 'io.modelcontextprotocol/clientInfo';
const LEVEL = 'io.modelcontextprotocol/logLevel';

/** The suite's "validMeta" (fixtures 6.0). */
const validMeta = {
  [PV]: '2026-07-28',
  [INFO]: { name: 'conformance-client', version: '1.0.0' },
  [CAPS]: {},
};

function request(id: number, method: string, params?: JsonObject): JsonRpcMessage {
  return params === undefined
    ? { jsonrpc: '2.0', id, method }
    : { jsonrpc: '2.0', id, method, params };
}

function rejection(input: PostInput): ProtocolError {
  try {
    classifyPost(input);
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error('expected a ProtocolError');
}

function modern(input: PostInput): Extract<EraDecision, { type: 'modern' }> {
  const d = classifyPost(input);
  if (d.type !== 'modern') throw new Error(`expected modern, got ${d.type}`);
  return d;
}

describe('classifyPost: section 2.4 ladder', () => {
  it(
    verifies(
      'R-ERA-SESSION-LEGACY',
      '2.4 step 1: a session id means legacy, whatever else is sent',
    ),
    () => {
      expect(
        classifyPost({
          sessionId: 'abc',
          protocolVersionHeader: '2026-07-28',
          message: request(1, 'tools/list', { _meta: validMeta }),
        }),
      ).toEqual({ type: 'legacy-session', sessionId: 'abc' });
      expect(classifyPost({ sessionId: 'x', message: request(1, 'ping') })).toEqual({
        type: 'legacy-session',
        sessionId: 'x',
      });
    },
  );

  it(
    verifies(
      'R-ERA-BARE-LEGACY',
      '2.4 step 2: no header and no _meta is legacy-new (SDK initialize)',
    ),
    () => {
      const init = request(1, 'initialize', {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'c', version: '1' },
      });
      expect(classifyPost({ message: init })).toEqual({ type: 'legacy-new' });
      // Anything else without a session is the transport's 400.
      expect(classifyPost({ message: request(2, 'tools/list') })).toEqual({ type: 'legacy-new' });
      expect(
        classifyPost({ message: { jsonrpc: '2.0', method: 'notifications/initialized' } }),
      ).toEqual({
        type: 'legacy-new',
      });
      const err = sessionRequiredError();
      expect(err.code).toBe(-32600);
      expect(err.httpStatus).toBe(400);
    },
  );

  it(
    verifies(
      'R-ERA-LEGACY-HEADER',
      '2.4 step 3: a legacy version header without _meta is legacy (DNS probe initialize)',
    ),
    () => {
      for (const v of ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25']) {
        expect(
          classifyPost({ protocolVersionHeader: v, message: request(1, 'initialize', {}) }),
        ).toEqual({ type: 'legacy-new' });
      }
    },
  );

  it(
    verifies('R-ERA-META-NO-HEADER', '2.4 step 4.1: _meta without the header -> 400 / -32020'),
    () => {
      const err = rejection({ message: request(1, 'tools/list', { _meta: validMeta }) });
      expect(err.code).toBe(-32020);
      expect(err.httpStatus).toBe(400);
    },
  );

  it(
    verifies('R-ERA-HEADER-NO-META', '2.4 step 4.2: modern header without _meta -> 400 / -32602'),
    () => {
      const err = rejection({
        protocolVersionHeader: '2026-07-28',
        message: request(1, 'tools/list', {}),
      });
      expect(err.code).toBe(-32602);
      expect(err.httpStatus).toBe(400);
    },
  );

  it('2.4 step 4.2: an unknown header value without _meta is modern and -32602', () => {
    expect(
      rejection({ protocolVersionHeader: 'garbage', message: request(1, 'tools/list') }).code,
    ).toBe(-32602);
  });

  it('2.4 step 4.2: _meta not an object, or with wrongly typed keys -> -32602', () => {
    for (const meta of [5, [], { [PV]: 1, [CAPS]: {} }, { [PV]: '2026-07-28', [CAPS]: [] }]) {
      const err = rejection({
        protocolVersionHeader: '2026-07-28',
        message: request(1, 'tools/list', { _meta: meta }),
      });
      expect(err.code).toBe(-32602);
    }
  });

  it('2.4 step 4.2 before 4.3: incomplete _meta with a legacy header -> -32602', () => {
    expect(
      rejection({
        protocolVersionHeader: '2025-11-25',
        message: request(1, 'tools/call', { name: 'x', _meta: { progressToken: 1 } }),
      }).code,
    ).toBe(-32602);
  });

  it(
    verifies(
      'R-ERA-LEGACY-HEADER-MODERN-META',
      '2.4 step 4.3: a legacy header with modern _meta is a mismatch -> -32020',
    ),
    () => {
      const err = rejection({
        protocolVersionHeader: '2025-11-25',
        message: request(1, 'tools/list', { _meta: validMeta }),
      });
      expect(err.code).toBe(-32020);
      expect(err.httpStatus).toBe(400);
    },
  );

  it('2.4 step 4: valid modern request -> modern with the typed meta', () => {
    const d = modern({
      protocolVersionHeader: ' 2026-07-28 ',
      message: request(1, 'tools/call', {
        name: 't',
        _meta: {
          ...validMeta,
          [CAPS]: { sampling: {} },
          [LEVEL]: 'info',
          progressToken: 'progress-test-1',
        },
      }),
    });
    expect(d.meta).toEqual({
      protocolVersion: '2026-07-28',
      clientCapabilities: { sampling: {} },
      clientInfo: { name: 'conformance-client', version: '1.0.0' },
      logLevel: 'info',
      progressToken: 'progress-test-1',
    });
  });

  it('2.4: modern meta with malformed optional keys -> -32602', () => {
    for (const extra of [{ [LEVEL]: 'loud' }, { [INFO]: { name: 'x' } }, { progressToken: {} }]) {
      expect(
        rejection({
          protocolVersionHeader: '2026-07-28',
          message: request(1, 'tools/list', { _meta: { ...validMeta, ...extra } }),
        }).code,
      ).toBe(-32602);
    }
  });

  it('2.4 step 6: the removed methods are listed for the engine to answer -32601', () => {
    expect([...REMOVED_IN_MODERN].sort()).toEqual(
      [
        'initialize',
        'logging/setLevel',
        'ping',
        'resources/subscribe',
        'resources/unsubscribe',
        'tasks/list',
        'tasks/result',
      ].sort(),
    );
    expect(isRemovedInModern('ping')).toBe(true);
    expect(isRemovedInModern('tools/call')).toBe(false);
  });
});

/** Conformance fixtures section 6.0 (server-stateless), rows 1-9. */
describe('classifyPost: server-stateless rows 1-9', () => {
  const header = '2026-07-28';
  const discover = (id: number, params: JsonObject): PostInput => ({
    protocolVersionHeader: header,
    message: request(id, 'server/discover', params),
  });

  function expectError(input: PostInput, code: number, id: number): ProtocolError {
    const err = rejection(input);
    expect(err.code).toBe(code);
    expect(err.httpStatus).toBe(400);
    // sep-2575-http-server-error-jsonrpc-id: the transport echoes this id.
    expect(replyIdOf(input.message)).toBe(id);
    return err;
  }

  it('row 1: sep-2575-request-meta-invalid-missing-meta / sep-2575-http-server-meta-invalid-400', () => {
    expectError(discover(101, {}), -32602, 101);
  });

  it('row 2: _meta without protocolVersion -> -32602, HTTP 400', () => {
    const { [PV]: _omit, ...meta } = validMeta;
    expectError(discover(102, { _meta: meta }), -32602, 102);
  });

  it('row 3: _meta without clientCapabilities -> -32602, HTTP 400', () => {
    const { [CAPS]: _omit, ...meta } = validMeta;
    expectError(discover(104, { _meta: meta }), -32602, 104);
  });

  it('row 4: sep-2575-request-meta-client-info-optional', () => {
    const { [INFO]: _omit, ...meta } = validMeta;
    const d = modern(discover(105, { _meta: meta }));
    expect(d.meta.clientInfo).toBeUndefined();
    expect(d.meta.clientCapabilities).toEqual({});
  });

  it('row 5: sep-2575-server-implements-discover (validMeta is modern)', () => {
    const input = discover(201, { _meta: validMeta });
    expect(modern(input).meta.protocolVersion).toBe('2026-07-28');
    expect(() => validateParams('server/discover', { _meta: validMeta }, 'modern')).not.toThrow();
  });

  it('rows 6-7: sep-2575-server-declares-prompts-in-discover / discover-capabilities-match-handlers', () => {
    for (const [id, method] of [
      [203, 'prompts/list'],
      [202, 'tools/list'],
    ] as const) {
      const params = { _meta: validMeta };
      expect(
        modern({ protocolVersionHeader: header, message: request(id, method, params) }).type,
      ).toBe('modern');
      expect(() => validateParams(method, params, 'modern')).not.toThrow();
    }
  });

  it('row 8: sep-2575-server-unsupported-version-error / http-server-unsupported-version-400', () => {
    const err = expectError(
      {
        protocolVersionHeader: 'v999.0.0',
        message: request(301, 'server/discover', { _meta: { ...validMeta, [PV]: 'v999.0.0' } }),
      },
      -32022,
      301,
    );
    expect(err.data).toEqual({ supported: ['2026-07-28'], requested: 'v999.0.0' });
  });

  it('row 8: a legacy version in header and _meta is still -32022 on the modern wire', () => {
    const err = rejection({
      protocolVersionHeader: '2025-11-25',
      message: request(1, 'tools/list', { _meta: { ...validMeta, [PV]: '2025-11-25' } }),
    });
    expect(err.code).toBe(-32022);
    expect(err.data).toEqual({ supported: ['2026-07-28'], requested: '2025-11-25' });
  });

  it('row 9: sep-2575-http-server-header-mismatch-400 (mismatch checked before version)', () => {
    expectError(discover(302, { _meta: { ...validMeta, [PV]: 'v999.0.0' } }), -32020, 302);
  });
});

describe('readModernMeta (WebSocket, stdio)', () => {
  it('is undefined for legacy params', () => {
    expect(readModernMeta(undefined)).toBeUndefined();
    expect(readModernMeta({})).toBeUndefined();
    expect(readModernMeta({ _meta: { progressToken: 1 } })).toBeUndefined();
  });

  it('returns the typed meta of a modern request', () => {
    expect(readModernMeta({ _meta: validMeta })).toEqual({
      protocolVersion: '2026-07-28',
      clientCapabilities: {},
      clientInfo: validMeta[INFO],
      logLevel: undefined,
      progressToken: undefined,
    });
  });

  it('rejects an incomplete modern _meta with -32602', () => {
    for (const meta of [{ [PV]: '2026-07-28' }, { [CAPS]: {} }]) {
      expect(() => readModernMeta({ _meta: meta })).toThrow(
        expect.objectContaining({ code: -32602 }),
      );
    }
  });

  it('rejects an unsupported version with -32022 and data', () => {
    try {
      readModernMeta({ _meta: { ...validMeta, [PV]: '2099-01-01' } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe(-32022);
      expect((err as ProtocolError).data).toEqual({
        supported: ['2026-07-28'],
        requested: '2099-01-01',
      });
    }
  });
});

describe('replyIdOf', () => {
  it('is the request id, or null for notifications and responses', () => {
    expect(replyIdOf(request(7, 'x'))).toBe(7);
    expect(replyIdOf({ jsonrpc: '2.0', method: 'n' })).toBeNull();
    expect(replyIdOf({ jsonrpc: '2.0', id: 3, result: {} })).toBeNull();
  });
});
