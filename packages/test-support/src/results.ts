/** Reading tool results in assertions. */

/** The text of a tool result's text content blocks, joined; '' when it has none. */
export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] } | undefined)?.content;
  return (content ?? []).map((c) => (c.type === 'text' ? (c.text ?? '') : '')).join('');
}
