/**
 * A message's text as it came off the wire, for a process that relays messages it did not
 * write (a cluster gateway answering with a worker's response): the transport writes those
 * bytes instead of serializing the parsed object again. Only an object that is the parsed
 * form of the text, and never changed after, may be registered; anything built or copied
 * from it is serialized as usual (the registry is keyed by identity).
 */
const texts = new WeakMap<object, string>();

/** Registers `text` as the wire form of `message` (its parse, unchanged); returns `message`. */
export function relayedAs<T extends object>(message: T, text: string): T {
  texts.set(message, text);
  return message;
}

/**
 * The message (or batch) as JSON text: each relayed message as its bytes, anything else
 * through JSON.stringify.
 */
export function messageText(message: object | readonly object[]): string {
  if (Array.isArray(message)) return `[${message.map((m: object) => messageText(m)).join(',')}]`;
  return texts.get(message) ?? JSON.stringify(message);
}
