import { describe, expect, it } from 'vitest';

import {
  handleRevokeRequest,
  handleTokenRequest,
  MAX_TOKEN_REQUEST_BYTES,
  type AttemptGate,
  type TokenHttpRequest,
  type TokenHttpResponse,
} from './endpoint.js';
import type { TokenService } from './service.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  fixture,
  ISSUER,
  PASSWORD,
  reasonOf,
  USERNAME,
} from './tokens.testkit.js';

const FORM = 'application/x-www-form-urlencoded';
const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function form(params: Record<string, string>, headers: Record<string, string> = {}) {
  return { contentType: FORM, body: new URLSearchParams(params).toString(), headers };
}

/** Every response: no-store, and the body never echoes a secret or token of the request. */
function checked(req: TokenHttpRequest, res: TokenHttpResponse): TokenHttpResponse {
  expect(res.headers['cache-control']).toBe('no-store');
  if (res.status !== 200) {
    const text = JSON.stringify(res.body);
    for (const secret of [CLIENT_SECRET, PASSWORD]) expect(text).not.toContain(secret);
    for (const value of new URLSearchParams(req.body).values()) {
      if (value.length > 20) expect(text).not.toContain(value);
    }
  }
  return res;
}

const token = async (service: TokenService, req: TokenHttpRequest) =>
  checked(req, await handleTokenRequest(service, req));
const revoke = async (service: TokenService, req: TokenHttpRequest) =>
  checked(req, await handleRevokeRequest(service, req));

function expectError(res: TokenHttpResponse, status: number, error: string) {
  expect({ status: res.status, error: res.body['error'] }).toEqual({ status, error });
  expect(typeof res.body['error_description']).toBe('string');
}

const refreshOf = (res: TokenHttpResponse): string => String(res.body['refresh_token']);
const accessOf = (res: TokenHttpResponse): string => String(res.body['access_token']);

describe('POST /oauth/token', () => {
  it('client_credentials with HTTP Basic, form fields or a JSON body', async () => {
    const { service, verify } = fixture();
    const viaBasic = await token(
      service,
      form(
        { grant_type: 'client_credentials' },
        { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      ),
    );
    expect(viaBasic.status).toBe(200);
    expect(viaBasic.headers['pragma']).toBe('no-cache');
    expect(viaBasic.body).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    expect((await verify(accessOf(viaBasic))).type).toBe('authenticated');

    const viaForm = await token(
      service,
      form({
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      }),
    );
    expect(viaForm.status).toBe(200);

    const viaJson = await token(service, {
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        scope: 'tools:read',
      }),
      headers: {},
    });
    expect(viaJson.status).toBe(200);
    expect(viaJson.body['scope']).toBe('tools:read');
  });

  it('401 invalid_client with a Basic challenge for wrong, missing or malformed client credentials', async () => {
    const { service } = fixture();
    const cases = [
      form({ grant_type: 'client_credentials' }, { authorization: basic(CLIENT_ID, 'wrong') }),
      form({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: 'wrong' }),
      form({ grant_type: 'client_credentials' }),
      form({ grant_type: 'client_credentials' }, { authorization: 'Basic !!!not-base64' }),
      form({ grant_type: 'client_credentials' }, { authorization: 'Basic bm9jb2xvbg==' }),
    ];
    for (const req of cases) {
      const res = await token(service, req);
      expectError(res, 401, 'invalid_client');
      expect(res.headers['www-authenticate']).toBe(`Basic realm="${ISSUER}"`);
    }
  });

  it('400 invalid_request for malformed requests', async () => {
    const { service } = fixture();
    const auth = { authorization: basic(CLIENT_ID, CLIENT_SECRET) };
    const cases: TokenHttpRequest[] = [
      form({}),
      form({ grant_type: 'client_credentials', client_secret: CLIENT_SECRET }, auth),
      form({ grant_type: 'client_credentials', client_secret: CLIENT_SECRET }),
      form({ grant_type: 'client_credentials', client_id: 'someone-else' }, auth),
      {
        contentType: FORM,
        body: 'grant_type=client_credentials&grant_type=password',
        headers: auth,
      },
      { contentType: 'text/plain', body: 'grant_type=client_credentials', headers: auth },
      { contentType: undefined, body: 'grant_type=client_credentials', headers: auth },
      { contentType: 'application/json', body: '{not json', headers: auth },
      { contentType: 'application/json', body: '["grant_type"]', headers: auth },
      { contentType: 'application/json', body: '{"grant_type":1}', headers: auth },
      form({ grant_type: 'refresh_token' }),
    ];
    for (const req of cases) expectError(await token(service, req), 400, 'invalid_request');
  });

  it('400 invalid_request for a body over 16 KiB, even an otherwise valid one', async () => {
    const { service } = fixture();
    const auth = { authorization: basic(CLIENT_ID, CLIENT_SECRET) };
    const base = 'grant_type=client_credentials&pad=';
    const fits = base + 'x'.repeat(MAX_TOKEN_REQUEST_BYTES - base.length);
    expect((await token(service, { contentType: FORM, body: fits, headers: auth })).status).toBe(
      200,
    );
    const res = await token(service, { contentType: FORM, body: `${fits}x`, headers: auth });
    expectError(res, 400, 'invalid_request');
  });

  it('400 unsupported_grant_type for unknown grants and password when not enabled', async () => {
    const { service } = fixture();
    for (const grant of ['authorization_code', 'implicit', 'password']) {
      const res = await token(
        service,
        form({ grant_type: grant, username: USERNAME, password: PASSWORD }),
      );
      expectError(res, 400, 'unsupported_grant_type');
    }
  });

  it('runs every credential check through the attempt gate, named by client id or user', async () => {
    const { service } = fixture({
      grantTypes: ['client_credentials', 'password', 'refresh_token'],
    });
    const names: string[] = [];
    const attempt: AttemptGate = (name, check) => {
      names.push(name);
      return check();
    };
    const viaBasic = form(
      { grant_type: 'client_credentials' },
      { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
    );
    expect((await handleTokenRequest(service, viaBasic, { attempt })).status).toBe(200);
    const password = form(
      { grant_type: 'password', username: USERNAME, password: 'wrong' },
      { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
    );
    expectError(await handleTokenRequest(service, password, { attempt }), 400, 'invalid_grant');
    const revocation = form({ token: 'x', client_id: CLIENT_ID, client_secret: 'wrong' });
    expectError(await handleRevokeRequest(service, revocation, { attempt }), 401, 'invalid_client');
    expect(names).toEqual([CLIENT_ID, CLIENT_ID, USERNAME, CLIENT_ID]);
    // A gate that refuses stops the request before the check; its error propagates.
    const refused = new Error('budget spent');
    await expect(
      handleTokenRequest(service, viaBasic, { attempt: () => Promise.reject(refused) }),
    ).rejects.toBe(refused);
  });

  it('password grant when enabled: 200, invalid_grant for a wrong password', async () => {
    const { service, verify } = fixture({ grantTypes: ['password', 'refresh_token'] });
    const ok = await token(
      service,
      form({ grant_type: 'password', username: USERNAME, password: PASSWORD }),
    );
    expect(ok.status).toBe(200);
    const result = await verify(accessOf(ok));
    expect(result.type === 'authenticated' && result.principal.id).toBe(`basic:${USERNAME}`);
    const wrong = await token(
      service,
      form({ grant_type: 'password', username: USERNAME, password: 'wrong password here!' }),
    );
    expectError(wrong, 400, 'invalid_grant');
    expectError(
      await token(service, form({ grant_type: 'password', username: USERNAME })),
      400,
      'invalid_request',
    );
    // A client that authenticates must authenticate correctly.
    const badClient = await token(
      service,
      form(
        { grant_type: 'password', username: USERNAME, password: PASSWORD },
        { authorization: basic(CLIENT_ID, 'wrong') },
      ),
    );
    expectError(badClient, 401, 'invalid_client');
    // client_credentials is not enabled on this service.
    expectError(
      await token(
        service,
        form(
          { grant_type: 'client_credentials' },
          { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
        ),
      ),
      400,
      'unsupported_grant_type',
    );
  });

  it('refresh_token grant rotates; reuse is invalid_grant and revokes the grant', async () => {
    const { service, verify } = fixture();
    const first = await token(
      service,
      form(
        { grant_type: 'client_credentials' },
        { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      ),
    );
    const second = await token(
      service,
      form({ grant_type: 'refresh_token', refresh_token: refreshOf(first) }),
    );
    expect(second.status).toBe(200);
    expect(refreshOf(second)).not.toBe(refreshOf(first));
    const reused = await token(
      service,
      form({ grant_type: 'refresh_token', refresh_token: refreshOf(first) }),
    );
    expectError(reused, 400, 'invalid_grant');
    expect(reasonOf(await verify(accessOf(second)))).toBe('token revoked');
    const garbage = await token(
      service,
      form({ grant_type: 'refresh_token', refresh_token: 'not-a-refresh-token' }),
    );
    expectError(garbage, 400, 'invalid_grant');
  });

  it('400 invalid_scope for a malformed scope or one beyond the grant', async () => {
    const { service } = fixture();
    const auth = { authorization: basic(CLIENT_ID, CLIENT_SECRET) };
    for (const scope of ['admin', 'tools:read "quoted"', '   ']) {
      const res = await token(service, form({ grant_type: 'client_credentials', scope }, auth));
      expectError(res, 400, 'invalid_scope');
    }
  });
});

describe('POST /oauth/revoke', () => {
  it('200 for a valid token (which stops working), an unknown one and a revoked one', async () => {
    const { service, verify } = fixture();
    const issued = await service.issue({ id: 'basic:svc', kind: 'service', roles: [] });
    const first = await revoke(service, form({ token: issued.access_token }));
    expect(first).toMatchObject({ status: 200, body: {} });
    expect(reasonOf(await verify(issued.access_token))).toBe('token revoked');
    expect((await revoke(service, form({ token: issued.access_token }))).status).toBe(200);
    expect((await revoke(service, form({ token: 'unknown-token' }))).status).toBe(200);
    const hinted = await revoke(
      service,
      form({ token: issued.refresh_token, token_type_hint: 'refresh_token' }),
    );
    expect(hinted.status).toBe(200);
    await expect(service.refresh(issued.refresh_token)).rejects.toThrow(/revoked/);
  });

  it('400 without a token, 401 for wrong client credentials', async () => {
    const { service } = fixture();
    expectError(await revoke(service, form({})), 400, 'invalid_request');
    const res = await revoke(
      service,
      form({ token: 'whatever' }, { authorization: basic(CLIENT_ID, 'wrong') }),
    );
    expectError(res, 401, 'invalid_client');
    expect(
      (
        await revoke(
          service,
          form({ token: 'whatever' }, { authorization: basic(CLIENT_ID, CLIENT_SECRET) }),
        )
      ).status,
    ).toBe(200);
  });
});
