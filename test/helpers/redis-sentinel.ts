import { Redis } from 'ioredis';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../harness/free-port.mjs';
import { RedisProcess } from './redis-process.js';
import { waitUntil } from './waiting.js';

export const SENTINEL_MASTER_NAME = 'auth-master';

/**
 * A master, one replica and one sentinel watching them (quorum 1), each a throwaway
 * `redis-server` child process. The sentinel declares the master down after one second, so
 * killing the master starts a failover that promotes the replica within a few seconds.
 */
export class RedisSentinelSet {
  private constructor(
    readonly master: RedisProcess,
    readonly replica: RedisProcess,
    readonly sentinel: RedisProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<RedisSentinelSet> {
    const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    // A replica's full sync goes through an RDB file in its working directory: keep it here.
    const master = await RedisProcess.start(undefined, ['--dir', dir]);
    const replica = await RedisProcess.start(undefined, [
      '--dir',
      dir,
      '--replicaof',
      '127.0.0.1',
      String(master.port),
    ]);
    const configFile = join(dir, 'sentinel.conf');
    writeFileSync(
      configFile,
      [
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 1000`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 10000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
        '',
      ].join('\n'),
    );
    const sentinel = await RedisProcess.startSentinel(
      await freePort(),
      configFile,
    );
    const set = new RedisSentinelSet(master, replica, sentinel, dir);
    await set.untilReplicaKnown();
    return set;
  }

  /** `host:port` of the sentinel, as REDIS_SENTINELS takes it. */
  get sentinels(): string {
    return `127.0.0.1:${this.sentinel.port}`;
  }

  /** Waits until the replica is in sync and the sentinel lists it, so a failover can promote it. */
  private async untilReplicaKnown(): Promise<void> {
    const sentinel = new Redis(this.sentinel.port, '127.0.0.1');
    const replica = new Redis(this.replica.port, '127.0.0.1');
    try {
      await waitUntil(
        async () => {
          const info = await replica.info('replication');
          const replicas = (await sentinel.call(
            'SENTINEL',
            'REPLICAS',
            SENTINEL_MASTER_NAME,
          )) as unknown[];
          return info.includes('master_link_status:up') && replicas.length > 0;
        },
        'the sentinel to see an in-sync replica',
        20_000,
      );
    } finally {
      sentinel.disconnect();
      replica.disconnect();
    }
  }

  /** Waits until every write made on the master so far has reached the replica. */
  async replicated(): Promise<void> {
    const master = new Redis(this.master.port, '127.0.0.1');
    try {
      const acked = (await master.call('WAIT', '1', '5000')) as number;
      if (acked < 1) throw new Error('the replica did not acknowledge writes');
    } finally {
      master.disconnect();
    }
  }

  /** The port of whichever server the sentinel names as master now. */
  async currentMasterPort(): Promise<number> {
    const sentinel = new Redis(this.sentinel.port, '127.0.0.1');
    try {
      const [, port] = (await sentinel.call(
        'SENTINEL',
        'GET-MASTER-ADDR-BY-NAME',
        SENTINEL_MASTER_NAME,
      )) as [string, string];
      return Number(port);
    } finally {
      sentinel.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([
      this.sentinel.kill(),
      this.replica.kill(),
      this.master.kill(),
    ]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
