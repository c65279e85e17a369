/**
 * Legacy resources/subscribe asks the template that serves the uri: a uri it refuses to read
 * (its `subscribe` throws) is refused with that error and not recorded; the engine's own uri
 * checks (dot segments, encoded separators) refuse as a read does; a matching uri the template
 * accepts, a fixed resource and a uri nothing serves are recorded as before.
 */
import { ProtocolError } from '@mcp-cluster/protocol';
import { describe, expect, it } from 'vitest';
import type { ComponentPack } from './components.js';
import { createEngine } from './engine.js';
import { LegacyClient, errorOf, resource, resultOf, template } from './test-harness.js';

const seen: string[] = [];
const pack: ComponentPack = {
  name: 'vetoing',
  components: [
    resource('test://fixed', 'fixed'),
    template('docs:///{+path}', /^docs:\/\/\/(?<path>.+)$/, () => 'x', {
      subscribe: (uri, vars) => {
        seen.push(String(vars['path']));
        if (String(vars['path']).startsWith('private/')) {
          throw ProtocolError.of('InvalidParams', 'Path not allowed: denied', { uri });
        }
      },
    }),
  ],
};

async function setup() {
  const engine = createEngine({ serverInfo: { name: 'srv', version: '1' }, packs: [pack] });
  const client = await LegacyClient.connect(engine, {}, '2025-11-25');
  return { engine, client };
}

describe('resources/subscribe veto', () => {
  it('refuses with the template error and records nothing', async () => {
    const { engine, client } = await setup();
    const uri = 'docs:///private/a.md';
    expect(errorOf(await client.request('resources/subscribe', { uri }))).toEqual({
      code: -32602,
      message: 'Path not allowed: denied',
      data: { uri },
    });
    expect(seen).toContain('private/a.md');
    expect(client.session.state.subscriptions.size).toBe(0);
    await engine.close();
  });

  it('refuses dot segments and encoded separators before the template is asked', async () => {
    const { engine, client } = await setup();
    seen.length = 0;
    // Canonicalized by the engine: %2e%2e is `..`; a leading `..` stays and reaches the check.
    const dots = await client.request('resources/subscribe', { uri: 'docs:///..%2Fsecret' });
    expect(errorOf(dots)).toMatchObject({ code: -32602 });
    expect(errorOf(dots).message).toMatch(/^Invalid resource uri: /);
    const sep = await client.request('resources/subscribe', { uri: 'docs:///a%2Fb' });
    expect(errorOf(sep)).toMatchObject({
      code: -32602,
      message: 'Invalid resource uri: encoded "/" or "\\" in a template variable',
    });
    expect(seen).toEqual([]);
    expect(client.session.state.subscriptions.size).toBe(0);
    await engine.close();
  });

  it('records accepted, fixed and unserved uris as before', async () => {
    const { engine, client } = await setup();
    for (const uri of ['docs:///public/a.md', 'test://fixed', 'other://not-served']) {
      expect(resultOf(await client.request('resources/subscribe', { uri }))).toStrictEqual({});
    }
    expect([...client.session.state.subscriptions]).toEqual([
      'docs:///public/a.md',
      'test://fixed',
      'other://not-served',
    ]);
    await engine.close();
  });
});
