import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import type { AppConfig } from '../config/app-config.js';

/** How long a command may wait on a live but unresponsive server before the request gets a 503. */
export const REDIS_COMMAND_TIMEOUT_MS = 1500;
const CONNECT_TIMEOUT_MS = 3000;

/**
 * Commands fail at once while the connection is down (no offline queue) and time out on a
 * hung server, so a Redis outage turns into a fast 503 instead of requests piling up.
 */
export async function createRedisClient(config: AppConfig): Promise<Redis> {
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
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  // Without a listener ioredis reports every reconnect failure as an unhandled error event.
  const logger = new Logger('Redis');
  let lastError = '';
  client.on('error', (err: Error) => {
    if (err.message !== lastError)
      logger.error(`Redis connection error: ${err.message}`);
    lastError = err.message;
  });
  client.on('ready', () => {
    if (lastError) logger.log('Redis connection restored');
    lastError = '';
  });
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

/** True when an error means Redis could not be reached or did not answer in time. */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    /Command timed out|Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY/.test(
      err.message,
    )
  );
}
