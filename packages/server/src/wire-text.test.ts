import { describe, expect, it } from 'vitest';
import { messageText, relayedAs } from './wire-text.js';

describe('messageText', () => {
  it('writes a relayed message as the bytes it came in, anything else as JSON', () => {
    const text = '{ "jsonrpc": "2.0", "id": 1, "result": {} }';
    const relayed = relayedAs(JSON.parse(text) as object, text);
    expect(messageText(relayed)).toBe(text);
    // A copy (e.g. a filtered result) is its own object: serialized afresh.
    expect(messageText({ ...relayed })).toBe('{"jsonrpc":"2.0","id":1,"result":{}}');
    // A batch: each relayed entry as its bytes, the others serialized.
    expect(messageText([relayed, { id: 2 }])).toBe(`[${text},{"id":2}]`);
  });
});
