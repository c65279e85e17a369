/**
 * Opens the Redis connection of the shared security stores. The client (ioredis, through
 * @mcp-cluster/cluster's index, which also holds the NATS bus) is loaded here, on first use,
 * so an embedded node without Redis never loads either.
 */
import type { RedisConnection } from '@mcp-cluster/cluster';

export async function connectStoreRedis(
  url: string,
  onError?: (err: Error) => void,
): Promise<RedisConnection> {
  const { connectRedis } = await import('@mcp-cluster/cluster');
  return connectRedis(url, onError);
}
