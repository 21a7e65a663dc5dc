import { Logger } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import type { AppConfig, RedisNode } from '../config/app-config.js';

/** How long a command may wait on a live but unresponsive server before the request gets a 503. */
export const REDIS_COMMAND_TIMEOUT_MS = 1500;
const CONNECT_TIMEOUT_MS = 1500;
/** How long boot waits for the first connection attempt before starting without Redis. */
const FIRST_ATTEMPT_MS = 5000;
const retryDelayMs = (attempt: number) => Math.min(attempt * 200, 2000);

/** What every connection shares: no offline queue, no retried commands, bounded waits. */
const FAIL_FAST = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  connectTimeout: CONNECT_TIMEOUT_MS,
  retryStrategy: retryDelayMs,
  // Commands issued in the same tick (concurrent requests) leave in one write.
  enableAutoPipelining: true,
} as const;

/**
 * The Redis client for the configured topology: one server (REDIS_URL), a Sentinel-watched
 * master (REDIS_SENTINELS) or a Cluster (REDIS_CLUSTER_NODES).
 *
 * The client never blocks boot: it connects in the background and keeps reconnecting, so the
 * service starts while Redis is absent (requests and /health answer 503 meanwhile) and heals
 * by itself when Redis appears. Commands fail at once while the connection is down (no
 * offline queue) and time out on a hung server, so an outage is a fast 503, never a hang.
 */
export async function createRedisClient(config: AppConfig): Promise<Redis> {
  if (config.redisClusterNodes)
    return createClusterClient(config.redisClusterNodes);
  if (config.redisSentinels) return createSentinelClient(config.redisSentinels);
  if (!config.redisUrl) {
    new Logger('Redis').warn(
      'Embedded in-process store in use: data is lost on restart and not shared between instances.',
    );
    return new RedisMock();
  }
  return connectInBackground(
    new Redis(config.redisUrl, FAIL_FAST),
    'REDIS_URL',
  );
}

/**
 * A master found through Sentinel. On a failover the old master's connection drops (or it
 * answers READONLY once demoted); the client then asks the sentinels again and reconnects to
 * the new master, without a restart.
 */
function createSentinelClient(
  sentinels: NonNullable<AppConfig['redisSentinels']>,
): Promise<Redis> {
  const client = new Redis({
    ...FAIL_FAST,
    sentinels: sentinels.nodes,
    name: sentinels.masterName,
    role: 'master',
    sentinelRetryStrategy: retryDelayMs,
    sentinelCommandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    // Subscribe to +switch-master, so a promotion is followed at once rather than on the next error.
    failoverDetector: true,
    // A demoted master: drop the connection and rediscover (the command itself fails, 503).
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
  });
  return connectInBackground(client, 'REDIS_SENTINELS');
}

/**
 * A Redis Cluster client with the same fail-fast behaviour. Once ready, every master's
 * connection is opened at once, so the first requests do not race connections being opened.
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
  const openMasters = () =>
    Promise.all(
      cluster.nodes('master').map((node) => node.ping().catch(() => undefined)),
    );
  cluster.on('ready', () => void openMasters());
  await connectInBackground(cluster, 'REDIS_CLUSTER_NODES');
  if (cluster.status === 'ready') await openMasters();
  // The rest of the service is typed against `Redis`. A Cluster has the same command methods
  // (get, set, eval, pipeline, multi, ...), `status`, `quit` and `disconnect`; what it refuses
  // is multi-key work across hash slots, which the key layout (redis-keys.ts) and the stores avoid.
  return cluster as unknown as Redis;
}

/**
 * Starts connecting and waits for the first attempt only (bounded), so a healthy Redis is
 * ready before the first request while an absent one delays boot by one attempt at most.
 * Failures are logged; the retry strategy goes on reconnecting in the background.
 */
async function connectInBackground<T extends Redis | Cluster>(
  client: T,
  setting: string,
): Promise<T> {
  logConnectionErrors(client, setting);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.connect().catch(() => undefined),
    // A cluster that answers but is not `cluster_state:ok` never settles connect().
    new Promise((resolve) => (timer = setTimeout(resolve, FIRST_ATTEMPT_MS))),
  ]);
  clearTimeout(timer);
  return client;
}

/** Logs each distinct connection error once; without a listener ioredis reports every reconnect failure as an unhandled error event. */
function logConnectionErrors(client: Redis | Cluster, setting: string): void {
  const logger = new Logger('Redis');
  let lastError = '';
  const onError = (err: Error) => {
    if (err.message !== lastError)
      logger.error(`Redis connection error (${setting}): ${err.message}`);
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
