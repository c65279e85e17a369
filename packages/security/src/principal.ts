/**
 * Who is calling. Structurally identical to `Principal` in @mcp-cluster/server's context.ts,
 * declared here so the security libraries do not depend on the server package: a value of
 * one type is assignable to the other.
 */
import type { JsonObject } from '@mcp-cluster/protocol';

export type PrincipalKind = 'anonymous' | 'user' | 'service';

export interface Principal {
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly roles: readonly string[];
  readonly claims?: Readonly<JsonObject>;
}
