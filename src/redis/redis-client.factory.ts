import { Logger } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import type { AppConfig, RedisNode } from '../config/app-config.js';

/** How long a command may wait on a live but unresponsive server before the request gets a 503. */
export const REDIS_COMMAND_TIMEOUT_MS = 1500;
const CONNECT_TIMEOUT_MS = 3000;
/** How long boot waits for a Redis Cluster to be ready before giving up. */
const CLUSTER_BOOT_TIMEOUT_MS = 10_000;
const retryDelayMs = (attempt: number) => Math.min(attempt * 200, 2000);

/**
 * Commands fail at once while the connection is down (no offline queue) and time out on a
 * hung server, so a Redis outage turns into a fast 503 instead of requests piling up.
 */
export async function createRedisClient(config: AppConfig): Promise<Redis> {
  if (config.redisClusterNodes)
    return createClusterClient(config.redisClusterNodes);
  if (!config.redisUrl) {
    new Logger('Redis').warn(
      'Embedded in-process store in use: data is lost on restart and not shared between instances.',
    );
    return new RedisMock();
  }
  const client = new Redis(config.redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: retryDelayMs,
  });
  logConnectionErrors(client);
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw new Error(
      `Cannot connect to Redis at REDIS_URL: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return client;
}

/**
 * A Redis Cluster client with the same fail-fast behaviour. Boot waits until the cluster is
 * ready and every master answers, or fails naming REDIS_CLUSTER_NODES.
 */
async function createClusterClient(nodes: RedisNode[]): Promise<Redis> {
  const cluster = new Cluster(nodes, {
    lazyConnect: true,
    // No node ready: fail at once instead of queueing until the cluster is back.
    enableOfflineQueue: false,
    clusterRetryStrategy: retryDelayMs,
    // ioredis always gives node connections an offline queue of their own (so a command may
    // wait while its node connects) and refuses `enableOfflineQueue` here; commandTimeout
    // still bounds every command.
    redisOptions: {
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
    },
  });
  logConnectionErrors(cluster);
  let timer: NodeJS.Timeout | undefined;
  try {
    // connect() can wait forever on a cluster that answers but is not `cluster_state:ok`.
    await Promise.race([
      cluster.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `not ready within ${CLUSTER_BOOT_TIMEOUT_MS / 1000} s (status ${cluster.status})`,
              ),
            ),
          CLUSTER_BOOT_TIMEOUT_MS,
        );
      }),
    ]);
    // Node connections open lazily. Open every master's now, so boot fails on a master that
    // does not answer, and the first requests do not race connections still being opened.
    await Promise.all(cluster.nodes('master').map((node) => node.ping()));
  } catch (err) {
    cluster.disconnect();
    const seeds = nodes.map((n) => `${n.host}:${n.port}`).join(',');
    throw new Error(
      `Cannot connect to Redis Cluster at REDIS_CLUSTER_NODES (${seeds}): ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
  }
  // The rest of the service is typed against `Redis`. A Cluster has the same command methods
  // (get, set, eval, pipeline, multi, ...), `status`, `quit` and `disconnect`; what it refuses
  // is multi-key work across hash slots, which the key layout (redis-keys.ts) and the stores avoid.
  return cluster as unknown as Redis;
}

/** Logs each distinct connection error once; without a listener ioredis reports every reconnect failure as an unhandled error event. */
function logConnectionErrors(client: Redis | Cluster): void {
  const logger = new Logger('Redis');
  let lastError = '';
  const onError = (err: Error) => {
    if (err.message !== lastError)
      logger.error(`Redis connection error: ${err.message}`);
    lastError = err.message;
  };
  client.on('error', onError);
  // A cluster reports trouble with single nodes separately.
  if (client instanceof Cluster) client.on('node error', onError);
  client.on('ready', () => {
    if (lastError) logger.log('Redis connection restored');
    lastError = '';
  });
}

/** True when an error means Redis could not be reached or did not answer in time. */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    err.name === 'ClusterAllFailedError' ||
    /Command timed out|Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY/.test(
      err.message,
    ) ||
    // Redis Cluster: no node reachable, slots unknown, or redirections (MOVED/ASK) that never settle.
    /None of startup nodes is available|Failed to refresh slots cache|Cluster isn't ready|Cluster is disconnect|Cluster is ended|Node is disconnected|Too many Cluster redirections/.test(
      err.message,
    )
  );
}
