import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { inspectRedis } from './redis-inspection.js';

/**
 * Every command one app's own Redis connection sends, seen through MONITOR. Other test runs
 * may share the database; commands from any other connection are ignored.
 */
export class AppRedisCommands {
  /** Each command as its arguments, name first (lower-cased). */
  readonly commands: string[][] = [];
  /** The commands run inside the app's scripts, in the same form. */
  readonly inScripts: string[][] = [];
  private lastWasApp = false;
  private appDatabase?: string;
  private readonly args = new Set<string>();
  private monitor?: Redis;
  private appAddress = '';
  private waiting?: {
    marker: string;
    resolve: () => void;
    reject: (err: Error) => void;
  };
  private failure?: Error;

  /** `url` is the Redis the app uses, when it is not the shared test database. */
  constructor(
    private readonly app: Redis,
    private readonly url?: string,
  ) {}

  async start(): Promise<void> {
    const info = await this.app.client('INFO');
    this.appAddress = /addr=(\S+)/.exec(info)?.[1] ?? '';
    // monitor() opens a connection of its own; the client it was called on is not needed.
    const base = inspectRedis(this.url);
    this.monitor = await base.monitor();
    base.disconnect();
    // ioredis can lose track of a MONITOR stream under heavy foreign traffic ("Command queue
    // state error"): fail the waiting test instead of crashing the file with an unhandled error.
    this.monitor.on('error', (err: Error) => {
      this.failure = err;
      this.waiting?.reject(err);
    });
    this.monitor.on(
      'monitor',
      (_time: string, args: string[], source: string, database: string) => {
        // A script's commands follow the EVALSHA that ran it (scripts run atomically), in
        // the same database.
        if (source === 'lua') {
          if (this.lastWasApp && database === this.appDatabase)
            this.inScripts.push([args[0].toLowerCase(), ...args.slice(1)]);
          return;
        }
        this.lastWasApp = source === this.appAddress;
        if (this.lastWasApp) this.appDatabase = database;
        if (source !== this.appAddress) return;
        if (this.waiting && args.includes(this.waiting.marker)) {
          this.waiting.resolve();
          return;
        }
        this.commands.push([args[0].toLowerCase(), ...args.slice(1)]);
        for (const arg of args) this.args.add(arg);
      },
    );
  }

  /** Waits until MONITOR has shown every command the app sent so far. */
  async flush(): Promise<void> {
    const marker = `monitor-marker-${randomBytes(8).toString('hex')}`;
    if (this.failure) throw this.failure;
    const seen = new Promise<void>((resolve, reject) => {
      this.waiting = { marker, resolve, reject };
    });
    await this.app.echo(marker);
    await seen;
  }

  /** Whether the app named `key` in any command seen. */
  named(key: string): boolean {
    return this.args.has(key);
  }

  /** Commands as `INFO commandstats` counts them: those sent, and those run inside scripts. */
  get commandstats(): number {
    return this.commands.length + this.inScripts.length;
  }

  clear(): void {
    this.args.clear();
    this.commands.length = 0;
    this.inScripts.length = 0;
  }

  stop(): void {
    this.monitor?.disconnect();
  }
}
