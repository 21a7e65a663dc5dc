import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  freePort,
  startChild,
  stopChild,
  waitUntil,
  type Child,
} from './processes.js';

/** Redis commands per request, from INFO commandstats taken around a fixed number of requests. */
export interface CommandCount {
  requests: number;
  perRequest: number;
  /** Calls per request by command name, e.g. `{ getex: 1 }`. */
  breakdown: Record<string, number>;
}

/** The Redis the benchmark runs against, and a connection of its own for INFO. */
export class BenchRedis {
  private constructor(
    private readonly base: URL,
    private readonly admin: Redis,
    /** True when the benchmark started this Redis, so its counters see nothing else. */
    readonly exclusive: boolean,
    private readonly child?: Child,
    private readonly dataDir?: string,
  ) {}

  /**
   * A throwaway redis-server on a free port, without persistence, so INFO commandstats counts
   * only the benchmark's traffic. Without redis-server on the PATH, an existing Redis is used.
   */
  static async start(): Promise<BenchRedis> {
    const port = await freePort();
    const dataDir = await mkdtemp(join(tmpdir(), 'bench-redis-'));
    let child: Child;
    try {
      child = await startChild(
        'redis-server',
        'redis-server',
        [
          ...['--port', String(port), '--bind', '127.0.0.1'],
          ...['--save', '', '--appendonly', 'no', '--dir', dataDir],
        ],
        {},
      );
    } catch (err) {
      await rm(dataDir, { recursive: true, force: true });
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return BenchRedis.shared();
    }
    const base = new URL(`redis://127.0.0.1:${port}`);
    await waitUntil(child, 'answering PING', () => ping(base));
    return new BenchRedis(base, new Redis(base.href), true, child, dataDir);
  }

  private static async shared(): Promise<BenchRedis> {
    const base = new URL(
      process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    );
    console.warn(
      `redis-server is not installed: using ${base.host}. Its command counts include every other client of that Redis.`,
    );
    base.pathname = '';
    return new BenchRedis(base, new Redis(base.href), false);
  }

  /** The URL of one logical database; the service and the reference app each get their own. */
  url(database: number): string {
    return new URL(`/${database}`, this.base).href;
  }

  async version(): Promise<string> {
    const info = await this.admin.info('server');
    return /^redis_version:(.+)$/m.exec(info)?.[1].trim() ?? 'unknown';
  }

  async keyCount(database: number): Promise<number> {
    const info = await this.admin.info('keyspace');
    const match = new RegExp(`^db${database}:keys=(\\d+)`, 'm').exec(info);
    return match ? Number(match[1]) : 0;
  }

  /**
   * Counts the commands Redis serves while `run` sends its requests, per request it reports
   * as served (a login shed with 503 is not one). INFO is left out.
   */
  async countCommands(run: () => Promise<number>): Promise<CommandCount> {
    const before = await this.commandCalls();
    const requests = await run();
    const after = await this.commandCalls();
    const breakdown: Record<string, number> = {};
    let total = 0;
    for (const [command, calls] of after) {
      const delta = calls - (before.get(command) ?? 0);
      if (command === 'info' || delta === 0) continue;
      breakdown[command] = delta / requests;
      total += delta;
    }
    return { requests, perRequest: total / requests, breakdown };
  }

  async stop(): Promise<void> {
    this.admin.disconnect();
    if (this.child) await stopChild(this.child);
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  private async commandCalls(): Promise<Map<string, number>> {
    const info = await this.admin.info('commandstats');
    const calls = new Map<string, number>();
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
      calls.set(match[1], Number(match[2]));
    return calls;
  }
}

async function ping(url: URL): Promise<boolean> {
  const client = new Redis(url.href, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  // A refused connection is the expected answer until redis-server listens.
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } finally {
    client.disconnect();
  }
}
