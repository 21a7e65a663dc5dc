import { Logger } from '@nestjs/common';
import { Cluster, Command, Pipeline, Redis } from 'ioredis';
import type { AppConfig, RedisNode } from '../config/app-config.js';
import { RedisBreaker, RedisUnavailableError } from './redis-breaker.js';

/** How long a command may wait on a live but unresponsive server before the request gets a 503. */
const REDIS_COMMAND_TIMEOUT_MS = 1500;
const CONNECT_TIMEOUT_MS = 1500;
/** How long boot waits for the first connection attempt before starting without Redis. */
const FIRST_ATTEMPT_MS = 5000;
const retryDelayMs = (attempt: number) => Math.min(attempt * 200, 2000);
/** The breaker's probe: a PING that must answer within this, then a pause before the next. */
const PROBE_TIMEOUT_MS = 500;
const PROBE_RETRY_MS = 250;

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
 * offline queue) and time out on a hung server, so an outage is a fast 503, never a hang;
 * after one timeout the connection's breaker fails the rest at once (see `guardConnection`).
 */
export async function createRedisClient(config: AppConfig): Promise<Redis> {
  if (config.redisClusterNodes)
    return createClusterClient(config.redisClusterNodes);
  if (config.redisSentinels) return createSentinelClient(config.redisSentinels);
  // The embedded store's warning is among the config's boot warnings.
  if (!config.redisUrl) return createEmbeddedStore();
  const client = new Redis(config.redisUrl, FAIL_FAST);
  guardConnection(client, 'REDIS_URL');
  timeFromQueueing(client);
  return connectInBackground(client, 'REDIS_URL');
}

/**
 * ioredis-mock, for development without a Redis. Loaded only here, so a production install
 * (`npm ci --omit=dev`) does without it.
 */
async function createEmbeddedStore(): Promise<Redis> {
  const mock = await import('ioredis-mock').catch((err: unknown) => {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new Error(
      'REDIS_URL is not set, and the embedded store it falls back to (the ioredis-mock ' +
        'package, a development dependency) is not installed. Set REDIS_URL, ' +
        'REDIS_SENTINELS or REDIS_CLUSTER_NODES, or install the development dependencies.',
      { cause: err },
    );
  });
  const store = new mock.default();
  embeddedStores.add(store);
  return store;
}

const embeddedStores = new WeakSet<object>();

/**
 * True for the embedded development store. Its Lua `TIME` is off by up to a second (its
 * seconds and microseconds disagree), so scripts that read the clock take this process's
 * instead: one process, one clock, as shared as a real Redis's.
 */
export function isEmbeddedStore(client: object): boolean {
  return embeddedStores.has(client);
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
  guardConnection(client, 'REDIS_SENTINELS');
  timeFromQueueing(client);
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
  // A breaker per node: a hung master fails fast for its own keys, and the others serve on.
  cluster.on('+node', (node: Redis) =>
    guardConnection(
      node,
      `REDIS_CLUSTER_NODES ${node.options.host}:${node.options.port}`,
    ),
  );
  timeFromQueueing(cluster);
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

type SendCommand = Redis['sendCommand'];

/** The breaker of each guarded connection (a client, or a cluster's node). */
const breakers = new WeakMap<object, RedisBreaker>();

/**
 * Whether the client can serve commands now: connected and ready, and no breaker open (a
 * frozen server keeps its connection "ready" while it answers nothing). A cluster needs every
 * master it knows to answer. The embedded store has no connection: always true.
 */
export function redisAnswers(client: Redis): boolean {
  const status = (client as { status?: string }).status;
  if (status === undefined) return true;
  if (status !== 'ready') return false;
  const connected = client as unknown as Redis | Cluster;
  const connections =
    connected instanceof Cluster ? connected.nodes('master') : [connected];
  return connections.every((connection) => !breakers.get(connection)?.open);
}

/**
 * Puts a breaker (redis-breaker.ts) in front of one connection, at the point every command
 * of it passes: `sendCommand`, which ioredis calls for single commands, for each command of
 * a pipeline or MULTI, and (on a cluster) for each command routed to this node.
 *
 * A command that fails because Redis did not answer or could not be reached trips the
 * breaker; while it is open the connection's commands are refused at once with
 * RedisUnavailableError (a 503 upstream), and a PING probe, one at a time, waits for Redis.
 * The cost per command while closed is a field read and a `catch` on its promise.
 */
function guardConnection(connection: Redis, setting: string): void {
  const send: SendCommand = connection.sendCommand;
  const logger = new Logger('Redis');
  const breaker = new RedisBreaker(
    () => {
      const ping = new Command('ping', []);
      // Set first, so the connection's longer commandTimeout does not replace it.
      ping.setTimeout(PROBE_TIMEOUT_MS);
      void send.call(connection, ping);
      return ping.promise;
    },
    {
      retryMs: PROBE_RETRY_MS,
      onOpen: (reason) =>
        logger.error(
          `Redis did not answer (${setting}: ${reason}); answering 503 at once until it does`,
        ),
      onClose: () => logger.log(`Redis answers again (${setting})`),
    },
  );
  breakers.set(connection, breaker);
  const failed = (err: unknown) => {
    if (isRedisUnavailable(err)) breaker.trip((err as Error).message);
  };
  // A reconnection ends with ioredis' ready check, the same proof as a probe. (The admin
  // seeder, waiting for 'ready', listens later and so finds the breaker closed.)
  connection.on('ready', () => breaker.close());
  connection.once('end', () => breaker.stop());
  connection.sendCommand = function (
    this: Redis,
    ...args: Parameters<SendCommand>
  ) {
    const command = args[0];
    // During a new connection's handshake ('connect'), ioredis sends its own commands (AUTH,
    // SELECT, INFO); they must pass, and it refuses or queues everything else by itself. At
    // any other time this also spares a cluster node's commands its offline queue while the
    // node reconnects.
    if (breaker.open && connection.status !== 'connect') {
      command.reject(new RedisUnavailableError());
      return command.promise;
    }
    const reply = send.apply(this, args);
    command.promise.catch(failed);
    return reply;
  };
}

/**
 * Starts each pipelined command's timeout when the command is queued rather than written.
 *
 * With auto-pipelining, the commands of concurrent requests wait in the next pipeline while
 * one is in flight, and ioredis starts a command's timer only when it writes the command; a
 * request could then wait for the pipeline ahead of it and for its own timeout (2.9 s, not
 * 1.5 s, on a hung server). `Command.setTimeout` keeps the first timer it is given.
 */
function timeFromQueueing(client: Redis | Cluster): void {
  const pipeline = client.pipeline;
  client.pipeline = function (this: Redis | Cluster, commands?: unknown[][]) {
    // Every pipeline ioredis builds is a Pipeline; the typings only promise the commands.
    const built = pipeline.call(this, commands) as unknown as Pipeline;
    const queue = built.sendCommand;
    built.sendCommand = function (this: Pipeline, command: Command) {
      command.setTimeout(REDIS_COMMAND_TIMEOUT_MS);
      return queue.call(this, command);
    };
    return built;
  };
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
    err instanceof RedisUnavailableError ||
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
