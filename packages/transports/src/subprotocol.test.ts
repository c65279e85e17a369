import { describe, expect, it } from 'vitest';
import {
  WEBSOCKET_BEARER_PREFIX,
  selectSubprotocol,
  subprotocolAuthorization,
} from './subprotocol.js';

const offer = (token: string): string =>
  `${WEBSOCKET_BEARER_PREFIX}${Buffer.from(token).toString('base64url')}`;

describe('subprotocolAuthorization', () => {
  it('reads the bearer token a browser offers as a subprotocol', () => {
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
    expect(subprotocolAuthorization({ 'sec-websocket-protocol': `mcp, ${offer(token)}` })).toBe(
      `Bearer ${token}`,
    );
  });

  it('leaves a request with an Authorization header, or without the entry, alone', () => {
    const headers = { 'sec-websocket-protocol': `mcp, ${offer('a-token')}` };
    expect(subprotocolAuthorization({ ...headers, authorization: 'Basic eDp5' })).toBeUndefined();
    expect(subprotocolAuthorization({ 'sec-websocket-protocol': 'mcp' })).toBeUndefined();
    expect(subprotocolAuthorization({})).toBeUndefined();
  });

  it('refuses what is not base64url of a header-safe token', () => {
    for (const entry of [
      `${WEBSOCKET_BEARER_PREFIX}not+base64`,
      WEBSOCKET_BEARER_PREFIX,
      offer('with space'),
      offer('line\r\nbreak'),
      offer('naïve'),
    ]) {
      expect(subprotocolAuthorization({ 'sec-websocket-protocol': entry }), entry).toBeUndefined();
    }
  });
});

describe('selectSubprotocol', () => {
  it('selects mcp, else the first offer, and never echoes a credential', () => {
    expect(selectSubprotocol(new Set([offer('secret-token'), 'mcp']))).toBe('mcp');
    expect(selectSubprotocol(new Set([offer('secret-token'), 'jsonrpc']))).toBe('jsonrpc');
    expect(selectSubprotocol(new Set([offer('secret-token')]))).toBe(false);
    expect(selectSubprotocol(new Set())).toBe(false);
  });
});
