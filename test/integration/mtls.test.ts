/**
 * Client certificates through the real embedded node: HTTPS with a CA file, the mtls
 * provider mapping a subject to a principal, authorization by that principal's roles, and
 * the refusals a client sees for an untrusted, unmapped or missing certificate.
 */
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineTool } from '@mcp-cluster/components';
import { resolveConfig } from '@mcp-cluster/config';
import { TestPki } from '@mcp-cluster/security/test-support/tls-certs';
import type { IssuedCert } from '@mcp-cluster/security/test-support/tls-certs';
import { REPO_ROOT, modernRequest, readMcpResponse, textOf } from '@mcp-cluster/testkit';
import { startNode } from '@mcp-cluster/cli';
import type { RunningNode } from '@mcp-cluster/cli';

const HELLO_PACK = path.join(REPO_ROOT, 'examples', 'hello', 'pack.ts');

/** Reports the principal the engine hands to tool handlers. */
const whoami = defineTool({
  name: 'whoami',
  description: 'The caller as the server authenticated it',
  handler: (_args, ctx) =>
    JSON.stringify({ id: ctx.principal.id, kind: ctx.principal.kind, roles: ctx.principal.roles }),
});

let pki: TestPki;
let serverCa: IssuedCert;
let billing: IssuedCert;
let unmapped: IssuedCert;
let foreign: IssuedCert;
let revoked: IssuedCert;
let node: RunningNode;

beforeAll(async () => {
  pki = new TestPki();
  serverCa = pki.ca('test-ca');
  const server = pki.issue(serverCa, 'server', {
    subject: '/CN=localhost',
    usage: 'server',
    san: ['IP:127.0.0.1', 'DNS:localhost'],
  });
  billing = pki.issue(serverCa, 'billing-agent', { subject: '/CN=billing-agent', usage: 'client' });
  unmapped = pki.issue(serverCa, 'stranger', { subject: '/CN=stranger', usage: 'client' });
  // The mapped subject again, from the trusted CA, but revoked in the CRL.
  revoked = pki.issue(serverCa, 'billing-revoked', {
    subject: '/CN=billing-agent',
    usage: 'client',
  });
  const crlFile = pki.crl(serverCa, 'test-ca', [revoked]);
  // Same CN as the mapped client, but signed by a CA the server does not trust.
  const otherCa = pki.ca('other-ca');
  foreign = pki.issue(otherCa, 'forged-billing', {
    subject: '/CN=billing-agent',
    usage: 'client',
  });

  node = await startNode(
    resolveConfig({
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      packs: [HELLO_PACK],
      tls: {
        certFile: server.certFile,
        keyFile: server.keyFile,
        caFile: serverCa.certFile,
        crlFile,
        requireClientCert: false,
      },
      auth: {
        // The embedded node admits callers without credentials unless told otherwise.
        allowAnonymous: false,
        audit: false,
        mtls: {
          subjects: [
            {
              match: { CN: 'billing-agent' },
              principal: { id: 'billing', roles: ['reader'] },
            },
          ],
        },
        authz: { roles: { reader: ['tools:call:whoami', 'tools:call:greet'] } },
      },
    }),
  );
  node.engine.registry.add(whoami);
});

afterAll(async () => {
  await node?.close();
  pki?.remove();
});

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [k, v] of Object.entries(raw)) {
    if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  }
  return headers;
}

/** A modern MCP request over HTTPS, presenting `client`'s certificate when given. */
function call(
  method: string,
  params: Record<string, unknown>,
  client?: IssuedCert,
): Promise<Reply> {
  const r = modernRequest(method, params);
  return new Promise<Reply>((resolve, reject) => {
    const req = https.request(
      node.url,
      {
        method: 'POST',
        headers: r.headers,
        ca: serverCa.cert,
        ...(client === undefined ? {} : { cert: client.cert, key: client.key }),
        // A fresh connection (and handshake) per request: no pooled socket of another cert.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const response = new Response(Buffer.concat(chunks), {
            status,
            headers: toHeaders(res.headers),
          });
          readMcpResponse(response).then(
            (read) => resolve({ status, body: read.messages.at(-1) as Record<string, unknown> }),
            reject,
          );
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(r.body));
  });
}

const errorCode = (body: Record<string, unknown>): number | undefined =>
  (body['error'] as { code?: number } | undefined)?.code;

const toolNames = (body: Record<string, unknown>): string[] =>
  (body['result'] as { tools: { name: string }[] }).tools.map((t) => t.name).sort();

describe('mTLS on the embedded node', () => {
  it('listens on an https:// URL', () => {
    expect(node.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/mcp$/);
  });

  it('authenticates the trusted client certificate as its mapped principal', async () => {
    const r = await call('tools/call', { name: 'whoami', arguments: {} }, billing);
    expect(r.status).toBe(200);
    const result = r.body['result'] as { isError?: boolean };
    expect(result.isError).not.toBe(true);
    expect(JSON.parse(textOf(result))).toEqual({
      id: 'mtls:billing',
      kind: 'service',
      roles: ['reader'],
    });
  });

  it("applies the mapped principal's roles to listing and calling", async () => {
    const list = await call('tools/list', {}, billing);
    expect(list.status).toBe(200);
    expect(toolNames(list.body)).toEqual(['greet', 'whoami']);

    const refused = await call('tools/call', { name: 'add', arguments: { a: 1, b: 2 } }, billing);
    expect(refused.status).toBe(403);
    expect(errorCode(refused.body)).toBe(-32014);
  });

  it('refuses a certificate of another CA with 401 (even with the mapped CN)', async () => {
    const r = await call('tools/call', { name: 'whoami', arguments: {} }, foreign);
    expect(r.status).toBe(401);
    expect(errorCode(r.body)).toBe(-32013);
    expect((r.body['error'] as { message: string }).message).toMatch(/not trusted/);
  });

  it('refuses a revoked certificate with 401 though its CA is trusted and its CN mapped', async () => {
    const r = await call('tools/call', { name: 'whoami', arguments: {} }, revoked);
    expect(r.status).toBe(401);
    expect(errorCode(r.body)).toBe(-32013);
    expect((r.body['error'] as { message: string }).message).toMatch(/not trusted/);
  });

  it('refuses a trusted certificate no rule maps with 403', async () => {
    const r = await call('tools/call', { name: 'whoami', arguments: {} }, unmapped);
    expect(r.status).toBe(403);
    expect(errorCode(r.body)).toBe(-32014);
    expect((r.body['error'] as { message: string }).message).toMatch(/not mapped/);
  });

  it('refuses a client without a certificate with 401 (no other provider)', async () => {
    const r = await call('tools/call', { name: 'whoami', arguments: {} });
    expect(r.status).toBe(401);
    expect(errorCode(r.body)).toBe(-32013);
  });

  it('does not speak plain HTTP on the HTTPS port', async () => {
    const url = node.url.replace(/^https:/, 'http:');
    const outcome = await new Promise<{ error?: NodeJS.ErrnoException; status?: number }>(
      (resolve) => {
        const req = http.request(url, { method: 'POST', agent: false }, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0 });
        });
        req.on('error', (error: NodeJS.ErrnoException) => resolve({ error }));
        req.end('{}');
      },
    );
    expect(outcome.status).toBeUndefined();
    expect(outcome.error?.code).toMatch(/^(ECONNRESET|EPIPE|HPE_INVALID_CONSTANT)$/);
  });
});
