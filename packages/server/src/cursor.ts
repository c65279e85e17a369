/**
 * Opaque pagination cursors. Stateless on purpose: any replica decodes any cursor, so a
 * client may page through a list across nodes. Shape: base64url("v1:<offset>").
 */
import { ProtocolError } from '@mcp-cluster/protocol';

export function encodeCursor(offset: number): string {
  return Buffer.from(`v1:${offset}`, 'utf8').toString('base64url');
}

/** Returns the offset a cursor names; throws -32602 for anything this server did not mint. */
export function decodeCursor(cursor: unknown): number {
  if (cursor === undefined) return 0;
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 64) {
    throw invalidCursor();
  }
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^v1:(\d{1,9})$/.exec(text);
  if (match?.[1] === undefined) throw invalidCursor();
  return Number(match[1]);
}

function invalidCursor(): ProtocolError {
  return ProtocolError.of('InvalidParams', 'Invalid cursor');
}

/** One page of `items` starting at the cursor's offset. */
export function paginate<T>(
  items: readonly T[],
  cursor: unknown,
  pageSize: number,
): { readonly page: readonly T[]; readonly nextCursor?: string } {
  const offset = decodeCursor(cursor);
  if (offset > items.length) throw invalidCursor();
  if (offset === 0 && items.length <= pageSize) return { page: items };
  const end = offset + pageSize;
  const page = items.slice(offset, end);
  return end < items.length ? { page, nextCursor: encodeCursor(end) } : { page };
}
