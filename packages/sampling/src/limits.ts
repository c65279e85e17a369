/**
 * Token and cost limits per principal and fixed window. A request reserves its worst case
 * before the provider is called (its input estimate plus `maxTokens`, priced at the model's
 * rates) and is refused when the reservation would pass a limit, so concurrent requests
 * cannot overshoot together; the reservation is settled to the provider's reported usage
 * afterwards, or released when the call fails. The counters are a UsageStore of
 * @mcp-cluster/cluster: memory (one process) or Redis (the cluster).
 */
export type { Usage, UsageLimits, UsageStore } from '@mcp-cluster/cluster';
export { MemoryUsageStore } from '@mcp-cluster/cluster';

/** The key of `principal`'s current window, and the time left in it. */
export function windowKey(
  principal: string,
  windowMs: number,
  now: number,
): { key: string; ttlMs: number } {
  const index = Math.floor(now / windowMs);
  return { key: `${index}:${principal}`, ttlMs: (index + 1) * windowMs - now };
}
