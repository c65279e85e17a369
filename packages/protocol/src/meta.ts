/** Reserved `_meta` keys of 2026-07-28 requests and results. */
export const MetaKey = {
  ProtocolVersion: 'io.modelcontextprotocol/protocolVersion',
  ClientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  ClientInfo: 'io.modelcontextprotocol/clientInfo',
  LogLevel: 'io.modelcontextprotocol/logLevel',
  ServerInfo: 'io.modelcontextprotocol/serverInfo',
  SubscriptionId: 'io.modelcontextprotocol/subscriptionId',
  RelatedTask: 'io.modelcontextprotocol/related-task',
} as const;

/** Extension ids. */
export const Extension = {
  Tasks: 'io.modelcontextprotocol/tasks',
  Skills: 'io.modelcontextprotocol/skills',
} as const;

/** HTTP headers of the Streamable HTTP transport (lower-case, as Node presents them). */
export const Header = {
  SessionId: 'mcp-session-id',
  ProtocolVersion: 'mcp-protocol-version',
  Method: 'mcp-method',
  Name: 'mcp-name',
  ParamPrefix: 'mcp-param-',
  LastEventId: 'last-event-id',
} as const;
