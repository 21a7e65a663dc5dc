import { Cluster, ReplyError } from 'ioredis';
import { freePort } from '../../../test/harness/free-port.mjs';
import { isRedisUnavailable } from './redis-client.factory.js';

function named(name: string, message: string): Error {
  const error = new Error(message);
  Object.defineProperty(error, 'name', { value: name });
  return error;
}

describe('isRedisUnavailable', () => {
  it.each([
    ['a command timeout', new Error('Command timed out')],
    ['a closed connection', new Error('Connection is closed.')],
    ['a refused connection', new Error('connect ECONNREFUSED 127.0.0.1:6379')],
    [
      'a cluster with no reachable startup node',
      new Error('None of startup nodes is available'),
    ],
    [
      'a failed slots refresh (ClusterAllFailedError)',
      named('ClusterAllFailedError', 'Failed to refresh slots cache.'),
    ],
    [
      'a cluster that is not ready, with the offline queue off',
      new Error("Cluster isn't ready and enableOfflineQueue options is false"),
    ],
    ['a disconnected cluster', new Error('Cluster is disconnected.')],
    ['a cluster that is ended', new Error('Cluster is ended.')],
    [
      'a MOVED loop that never settles',
      new Error(
        'Too many Cluster redirections. Last error: ReplyError: MOVED 866 127.0.0.1:7001',
      ),
    ],
    [
      'a cluster that is down',
      new ReplyError('CLUSTERDOWN The cluster is down') as Error,
    ],
    [
      'a slot being migrated',
      new ReplyError(
        'TRYAGAIN Multiple keys request during rehashing of slot',
      ) as Error,
    ],
  ])('is true for %s', (_, error) => {
    expect(isRedisUnavailable(error)).toBe(true);
  });

  it.each([
    [
      'a cross-slot command (a bug, not an outage)',
      new ReplyError(
        "CROSSSLOT Keys in request don't hash to the same slot",
      ) as Error,
    ],
    [
      'a cross-slot pipeline refused by the client',
      new Error('All keys in the pipeline should belong to the same slot'),
    ],
    [
      'a wrong type',
      new ReplyError(
        'WRONGTYPE Operation against a key holding the wrong kind of value',
      ) as Error,
    ],
    ['a plain programming error', new TypeError('x is not a function')],
    ['a value that is not an Error', 'Connection is closed.'],
  ])('is false for %s', (_, error) => {
    expect(isRedisUnavailable(error)).toBe(false);
  });

  it('is true for the errors a real cluster client gives when no node answers', async () => {
    const port = await freePort();
    const cluster = new Cluster([{ host: '127.0.0.1', port }], {
      lazyConnect: true,
      enableOfflineQueue: false,
      // Retries later than this test lasts, so the client stays "reconnecting".
      clusterRetryStrategy: () => 60_000,
      // ioredis otherwise keeps a 2 s timer per refused socket after disconnect().
      redisOptions: { disconnectTimeout: 10 },
    });
    const events: unknown[] = [];
    cluster.on('error', (err: unknown) => events.push(err));
    try {
      const boot = await cluster.connect().catch((err: unknown) => err);
      const command = await cluster.get('k').catch((err: unknown) => err);
      expect(boot).toBeInstanceOf(Error);
      expect(command).toBeInstanceOf(Error);
      expect(events.length).toBeGreaterThan(0);
      for (const error of [boot, command, ...events])
        expect({
          error: String(error),
          unavailable: isRedisUnavailable(error),
        }).toEqual({ error: String(error), unavailable: true });
    } finally {
      cluster.disconnect();
    }
  });
});
