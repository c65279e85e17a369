/** Plain requests for set-up and verification (not under load): fetch on loopback. */
import { messagesOf } from './wire.js';

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly messages: unknown[];
  readonly text: string;
}

export async function post(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string,
): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  let messages: unknown[] = [];
  try {
    messages = messagesOf(response.headers.get('content-type'), text);
  } catch {
    // Left empty: the caller reports the raw text.
  }
  return { status: response.status, headers: response.headers, messages, text };
}
