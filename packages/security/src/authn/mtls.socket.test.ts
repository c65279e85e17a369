/**
 * mtlsProvider behind a real node:https server on loopback, with certificates made by the
 * openssl CLI: what the TLS stack reports (tlsPeerOf) is what the provider maps.
 */
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer, request, type Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPki, type IssuedCert } from '../tls/certs.testkit.js';
import { tlsServerOptions } from '../tls/options.js';
import { tlsPeerOf } from '../tls/peer.js';
import { mtlsProvider } from './mtls.js';
import type { Principal } from '../principal.js';
import type { AuthProvider, TlsPeer } from './types.js';

interface Reply {
  status: number;
  body: { result: { type: string; principal?: Principal }; peer?: TlsPeer };
}

const pki = new TestPki();
let ca: IssuedCert;
let worker: IssuedCert;
let reporter: IssuedCert;
let pinned: IssuedCert;
let stranger: IssuedCert;
let twoNames: IssuedCert;
let foreign: IssuedCert;
let lenient: { server: Server; port: number };
let strict: { server: Server; port: number };
/** Requests that reached the HTTP handler (a refused handshake never does). */
let handled = 0;

async function start(providers: Record<string, AuthProvider>, requireClientCert: boolean) {
  const options = tlsServerOptions({
    certFile: pki.dir + '/server.crt',
    keyFile: pki.dir + '/server.key',
    caFile: ca.certFile,
    requireClientCert,
  });
  const server = createServer(options, (req, res) => {
    handled++;
    const provider = providers[req.url ?? ''];
    if (provider === undefined) {
      res.writeHead(404).end();
      return;
    }
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]),
    );
    const peer = tlsPeerOf(req.socket);
    provider.authenticate({ headers, tls: peer }).then(
      (result) => {
        const status = result.type === 'rejected' ? result.status : 200;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ result, peer }));
      },
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function call(port: number, path: string, client?: IssuedCert): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        ca: ca.cert,
        ...(client === undefined ? {} : { cert: client.cert, key: client.key }),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          // The handler answers JSON with 200/401/403; anything else is a broken test setup.
          if (![200, 401, 403].includes(status)) {
            reject(new Error(`unexpected status ${status}: ${text}`));
            return;
          }
          resolve({ status, body: JSON.parse(text) as Reply['body'] });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

beforeAll(async () => {
  ca = pki.ca('client-ca');
  const otherCa = pki.ca('other-ca');
  pki.issue(ca, 'server', {
    subject: '/CN=localhost',
    usage: 'server',
    san: ['IP:127.0.0.1', 'DNS:localhost'],
  });
  worker = pki.issue(ca, 'worker', {
    subject: '/O=mcp-cluster/OU=workers/CN=worker-1',
    usage: 'client',
    san: ['URI:spiffe://mcp-cluster/worker-1'],
  });
  reporter = pki.issue(ca, 'reporter', {
    subject: '/CN=reporter',
    usage: 'client',
    san: ['DNS:reporter.internal', 'IP:::1'],
  });
  pinned = pki.issue(ca, 'pinned', { subject: '/CN=pinned', usage: 'client' });
  stranger = pki.issue(ca, 'stranger', { subject: '/O=elsewhere/CN=stranger', usage: 'client' });
  twoNames = pki.issue(ca, 'two-names', {
    subject: '/O=mcp-cluster/OU=workers/CN=worker-1/CN=evil',
    usage: 'client',
  });
  // Same subject as `worker`, signed by a CA the server does not trust.
  foreign = pki.issue(otherCa, 'foreign', {
    subject: '/O=mcp-cluster/OU=workers/CN=worker-1',
    usage: 'client',
  });

  const rules = mtlsProvider({
    subjects: [
      {
        match: { O: 'mcp-cluster', OU: 'workers', CN: 'worker-1' },
        principal: { id: 'worker-1', roles: ['worker'] },
      },
      {
        match: { fingerprint256: new X509Certificate(pinned.cert).fingerprint256.toLowerCase() },
        principal: { id: 'pinned-svc', kind: 'user', roles: ['admin'] },
      },
      { match: { san: 'DNS:Reporter.Internal' }, principal: { id: 'reporter', roles: [] } },
    ],
  });
  const byCn = mtlsProvider({ fromCommonName: { kind: 'service', roles: ['client'] } });
  lenient = await start({ '/rules': rules, '/cn': byCn }, false);
  strict = await start({ '/rules': rules }, true);
});

afterAll(async () => {
  await Promise.all([lenient, strict].filter((s) => s !== undefined).map((s) => close(s.server)));
  pki.remove();
});

describe('mtlsProvider over node:https (requireClientCert: false)', () => {
  it('maps a trusted certificate by subject attributes, with the certificate in claims', async () => {
    const reply = await call(lenient.port, '/rules', worker);
    expect(reply.status).toBe(200);
    expect(reply.body.result).toEqual({
      type: 'authenticated',
      principal: {
        id: 'mtls:worker-1',
        kind: 'service',
        roles: ['worker'],
        claims: {
          certSubject: { O: 'mcp-cluster', OU: 'workers', CN: 'worker-1' },
          certFingerprint: new X509Certificate(worker.cert).fingerprint256,
        },
      },
    });
    expect(reply.body.peer).toMatchObject({
      authorized: true,
      subjectAltNames: ['URI:spiffe://mcp-cluster/worker-1'],
      serialNumber: expect.stringMatching(/^[0-9A-F]+$/),
    });
  });

  it('maps by fingerprint and by SAN (DNS compared case-insensitively)', async () => {
    const byFingerprint = await call(lenient.port, '/rules', pinned);
    expect(byFingerprint.body.result.principal).toMatchObject({
      id: 'mtls:pinned-svc',
      kind: 'user',
      roles: ['admin'],
    });
    const bySan = await call(lenient.port, '/rules', reporter);
    expect(bySan.body.result.principal).toMatchObject({ id: 'mtls:reporter', roles: [] });
    expect(bySan.body.peer?.subjectAltNames).toEqual([
      'DNS:reporter.internal',
      'IP Address:0:0:0:0:0:0:0:1',
    ]);
  });

  it('answers 401 with a JSON body for a certificate of another CA, whatever its subject', async () => {
    const reply = await call(lenient.port, '/rules', foreign);
    expect(reply.status).toBe(401);
    expect(reply.body.result).toEqual({
      type: 'rejected',
      status: 401,
      reason: 'client certificate not trusted',
    });
    expect(reply.body.peer?.authorized).toBe(false);
    expect(reply.body.peer?.authorizationError).toMatch(/^[A-Z_]+$/);
  });

  it('skips a client without a certificate', async () => {
    const reply = await call(lenient.port, '/rules');
    expect(reply.status).toBe(200);
    expect(reply.body.result).toEqual({ type: 'skip' });
    expect(reply.body.peer).toEqual({
      authorized: false,
      authorizationError: expect.any(String),
    });
  });

  it('answers 403 for a trusted certificate that no rule maps', async () => {
    const reply = await call(lenient.port, '/rules', stranger);
    expect(reply.status).toBe(403);
    expect(reply.body.result).toEqual({
      type: 'rejected',
      status: 403,
      reason: 'client certificate not mapped',
    });
  });

  it('does not map a certificate that repeats an attribute a rule names', async () => {
    const reply = await call(lenient.port, '/rules', twoNames);
    expect(reply.body.peer?.subject).toEqual({
      O: 'mcp-cluster',
      OU: 'workers',
      CN: 'worker-1+evil',
    });
    expect(reply.status).toBe(403);
    // Nor does fromCommonName pick one of the two names.
    expect((await call(lenient.port, '/cn', twoNames)).status).toBe(403);
  });

  it('maps any trusted certificate to mtls:cn:<CN> with fromCommonName', async () => {
    const reply = await call(lenient.port, '/cn', stranger);
    expect(reply.body.result.principal).toMatchObject({
      id: 'mtls:cn:stranger',
      kind: 'service',
      roles: ['client'],
    });
    expect((await call(lenient.port, '/cn', foreign)).status).toBe(401);
  });
});

describe('mtlsProvider over node:https (requireClientCert: true)', () => {
  it('serves a trusted certificate', async () => {
    const reply = await call(strict.port, '/rules', worker);
    expect(reply.status).toBe(200);
    expect(reply.body.result.principal?.id).toBe('mtls:worker-1');
    expect(reply.body.peer?.fingerprint256).toBe(new X509Certificate(worker.cert).fingerprint256);
  });

  it('refuses a certificate of another CA or none before HTTP is reached', async () => {
    const before = handled;
    // Untrusted: Node verifies after the handshake and destroys the socket (no TLS alert);
    // the server reports its own close as ECONNRESET, the client sees a hang-up.
    let refused = once(strict.server, 'tlsClientError');
    await expect(call(strict.port, '/rules', foreign)).rejects.toMatchObject({
      code: expect.stringMatching(/^(ECONNRESET|EPIPE)$/),
    });
    expect((await refused)[0]).toMatchObject({ code: 'ECONNRESET' });
    // None: OpenSSL itself fails the handshake. The client's error races (alert or reset).
    refused = once(strict.server, 'tlsClientError');
    await expect(call(strict.port, '/rules')).rejects.toThrow();
    expect((await refused)[0]).toMatchObject({ code: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' });
    expect(handled).toBe(before);
  });
});
