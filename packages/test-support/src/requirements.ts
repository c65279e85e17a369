/**
 * Protocol requirements the embedded server meets, each tied to the spec section that states it.
 * `spec` names the revision and either a conformance-fixtures.md section ("fx §…") or a
 * PROTOCOL.md section. Tests claim a requirement by titling themselves with `verifies(id, …)`;
 * requirements.test.ts fails when an id here has no such test.
 */
export const REQUIREMENTS = [
  // Era detection ladder (one endpoint, both eras)
  {
    id: 'R-ERA-SESSION-LEGACY',
    spec: '2026-07-28 fx §2.4 step 1',
    text: 'A request bearing Mcp-Session-Id is legacy, whatever else it sends.',
  },
  {
    id: 'R-ERA-BARE-LEGACY',
    spec: '2026-07-28 fx §2.4 step 2',
    text: 'No MCP-Protocol-Version header and no _meta means legacy (SDK initialize).',
  },
  {
    id: 'R-ERA-LEGACY-HEADER',
    spec: '2026-07-28 fx §2.4 step 3',
    text: 'A legacy version header without modern _meta is legacy.',
  },
  {
    id: 'R-ERA-META-NO-HEADER',
    spec: '2026-07-28 fx §2.4 step 4.1',
    text: 'Modern _meta without the version header is 400 / -32020.',
  },
  {
    id: 'R-ERA-HEADER-NO-META',
    spec: '2026-07-28 fx §2.4 step 4.2',
    text: 'A modern version header without _meta is 400 / -32602.',
  },
  {
    id: 'R-ERA-LEGACY-HEADER-MODERN-META',
    spec: '2026-07-28 fx §2.4 step 4.3',
    text: 'A legacy version header with modern _meta is a mismatch: 400 / -32020.',
  },
  // Modern header rules
  {
    id: 'R-HDR-METHOD-MISSING',
    spec: '2026-07-28 fx §7.5',
    text: 'A missing Mcp-Method header is 400 / -32020.',
  },
  {
    id: 'R-HDR-NAME-MISMATCH',
    spec: '2026-07-28 fx §7.5',
    text: 'An Mcp-Name header that does not match the body is 400 / -32020.',
  },
  {
    id: 'R-HDR-VERSION-MISMATCH',
    spec: '2026-07-28 fx §6.0',
    text: 'Header version differing from _meta version is 400 / -32020, checked before support.',
  },
  {
    id: 'R-HDR-UNSUPPORTED-VERSION',
    spec: '2026-07-28 fx §6.0',
    text: 'An unsupported version is 400 / -32022 with supported and requested in data.',
  },
  {
    id: 'R-HDR-MISSING-CAPABILITY',
    spec: '2026-07-28 fx §6.3',
    text: 'Needing a capability the request did not declare is 400 / -32021 with requiredCapabilities.',
  },
  {
    id: 'R-HDR-META-INCOMPLETE',
    spec: '2026-07-28 fx §6.0',
    text: 'Missing required _meta fields are 400 / -32602, echoing the request id.',
  },
  {
    id: 'R-HDR-PARAM-HEADERS',
    spec: '2026-07-28 fx §7.6',
    text: 'Mcp-Param-* headers are validated against x-mcp-header tool arguments.',
  },
  // Modern results
  {
    id: 'R-MODERN-DISCOVER',
    spec: '2026-07-28 fx §6.0',
    text: 'server/discover declares versions and capabilities, with serverInfo in _meta.',
  },
  {
    id: 'R-MODERN-RESULT-TYPE',
    spec: '2026-07-28 fx §3',
    text: 'Every modern result carries resultType (complete for finished calls).',
  },
  {
    id: 'R-MODERN-CACHE-HINTS',
    spec: '2026-07-28 fx §6.1',
    text: 'List results carry integer ttlMs and cacheScope.',
  },
  {
    id: 'R-MODERN-REMOVED-METHODS',
    spec: '2026-07-28 fx §2.4 step 6',
    text: 'Removed and unknown methods on the modern wire are 404 / -32601.',
  },
  // Legacy lifecycle and sessions
  {
    id: 'R-LEGACY-INIT-NEGOTIATE',
    spec: '2025-11-25 PROTOCOL.md Lifecycle',
    text: 'initialize negotiates the version and declares capabilities.',
  },
  {
    id: 'R-LEGACY-INIT-UNKNOWN-VERSION',
    spec: '2025-11-25 PROTOCOL.md Lifecycle',
    text: 'An unknown requested version is answered with the newest; a second initialize fails.',
  },
  {
    id: 'R-PING-SETLEVEL-EMPTY',
    spec: '2025-11-25 fx §3',
    text: 'ping and logging/setLevel return exactly {}.',
  },
  {
    id: 'R-SESSION-ID-ASCII',
    spec: '2025-11-25 fx §3',
    text: 'Session ids are visible ASCII (0x21-0x7E).',
  },
  {
    id: 'R-SESSION-UNKNOWN-404',
    spec: '2025-11-25 fx §3',
    text: 'A request bearing an unknown session id gets HTTP 404.',
  },
  {
    id: 'R-SESSION-ENDED-404',
    spec: '2025-11-25 fx §3',
    text: 'A request bearing a terminated session id gets HTTP 404.',
  },
  {
    id: 'R-SESSION-DELETE',
    spec: '2025-11-25 fx §7.2',
    text: 'DELETE with the session id ends the session with 2xx.',
  },
  {
    id: 'R-BATCH-2025-03-26',
    spec: '2025-03-26 PROTOCOL.md Base',
    text: 'JSON-RPC batches are accepted in 2025-03-26 sessions, one response per request.',
  },
  {
    id: 'R-BATCH-REJECTED-LATER',
    spec: '2025-06-18 PROTOCOL.md Base',
    text: 'Batches on later revisions are 400 / -32600.',
  },
  // HTTP hardening
  {
    id: 'R-HOST-VALIDATION',
    spec: '2025-11-25 fx §7.1',
    text: 'A non-localhost Host is refused with 403; a localhost Host is accepted.',
  },
  {
    id: 'R-ORIGIN-VALIDATION',
    spec: '2025-11-25 fx §7.1',
    text: 'A foreign Origin is refused with 403.',
  },
  {
    id: 'R-BODY-SIZE-LIMIT',
    spec: 'all PROTOCOL.md Transports',
    text: 'An oversize body is 413 / -32015.',
  },
  {
    id: 'R-JSON-DEPTH-LIMIT',
    spec: 'all PROTOCOL.md Transports',
    text: 'JSON nested beyond the limit is 400 / -32600.',
  },
  // MRTR
  {
    id: 'R-MRTR-INPUT-REQUIRED',
    spec: '2026-07-28 fx §6.3',
    text: 'A handler needing input answers input_required with signed requestState, then completes.',
  },
  {
    id: 'R-MRTR-MULTI-ROUND',
    spec: '2026-07-28 fx §6.3',
    text: 'Multi-round MRTR carries earlier answers in a new, different requestState.',
  },
  {
    id: 'R-MRTR-STATE-INTEGRITY',
    spec: '2026-07-28 fx §6.3',
    text: 'A tampered, foreign-bound or expired requestState is rejected with -32602.',
  },
  // Notifications, cancellation, paging
  {
    id: 'R-PROGRESS-BEFORE-RESULT',
    spec: '2026-07-28 fx §3',
    text: 'Progress notifications stream over SSE before the result.',
  },
  {
    id: 'R-PROGRESS-TOKEN',
    spec: '2025-11-25 PROTOCOL.md Base',
    text: 'Progress echoes the request token exactly and only increases.',
  },
  {
    id: 'R-LOG-LEGACY-GATING',
    spec: '2025-11-25 PROTOCOL.md Server features',
    text: 'Legacy logs go out unfiltered until setLevel, then only at or above the level.',
  },
  {
    id: 'R-LOG-MODERN-GATING',
    spec: '2026-07-28 fx §3',
    text: 'No notifications/message unless the request sets a logLevel; then only at or above it.',
  },
  {
    id: 'R-CANCEL-LEGACY',
    spec: '2025-11-25 PROTOCOL.md Base',
    text: 'notifications/cancelled aborts the handler signal.',
  },
  {
    id: 'R-CANCEL-MODERN',
    spec: '2026-07-28 PROTOCOL.md Base',
    text: 'A transport abort reaches the modern handler signal.',
  },
  {
    id: 'R-PAGINATION-CURSOR',
    spec: '2026-07-28 PROTOCOL.md Server features',
    text: 'Lists page with opaque cursors; an invalid cursor is -32602.',
  },
  // Resources, completion, subscriptions
  {
    id: 'R-RESOURCE-NOT-FOUND-LEGACY',
    spec: '2025-11-25 PROTOCOL.md Server features',
    text: 'Reading an unknown resource uri on the legacy wire is -32002 with the uri.',
  },
  {
    id: 'R-RESOURCE-NOT-FOUND-MODERN',
    spec: '2026-07-28 fx §6.2',
    text: 'Reading an unknown resource uri on the modern wire is -32602 with data.uri.',
  },
  {
    id: 'R-COMPLETION-MAX-100',
    spec: '2025-11-25 PROTOCOL.md Server features',
    text: 'completion/complete returns at most 100 values, with total and hasMore.',
  },
  {
    id: 'R-LISTEN-ACK-TAG',
    spec: '2026-07-28 PROTOCOL.md Change notifications',
    text: 'subscriptions/listen acknowledges first and tags every frame with its subscriptionId.',
  },
  // Tasks extension
  {
    id: 'R-TASKS-MODERN-CREATE',
    spec: '2026-07-28 fx §8.1',
    text: 'A task-augmented call returns a flat CreateTaskResult, later completed with the result.',
  },
  {
    id: 'R-TASKS-EXTENSION-REQUIRED',
    spec: '2026-07-28 fx §8.1',
    text: 'A task-required tool without the extension in the request is -32021.',
  },
  {
    id: 'R-TASKS-LEGACY-SHAPES',
    spec: '2025-11-25 PROTOCOL.md Tasks',
    text: 'Legacy task methods return {task} and Task views valid against the official schema.',
  },
  // Transports
  {
    id: 'R-STDIO-NDJSON',
    spec: 'all PROTOCOL.md Transports',
    text: 'stdio speaks newline-delimited JSON.',
  },
  {
    id: 'R-SSE-RESUME',
    spec: '2025-11-25 fx §7.4',
    text: 'A closed SSE stream resumes via GET with Last-Event-ID, replaying the rest.',
  },
] as const satisfies readonly { id: `R-${string}`; spec: string; text: string }[];

export type Requirement = (typeof REQUIREMENTS)[number];
export type RequirementId = Requirement['id'];

/** A test title claiming `id`: `[R-…] title`. The id is type-checked against the table. */
export function verifies(id: RequirementId, title: string): string {
  return `[${id}] ${title}`;
}
