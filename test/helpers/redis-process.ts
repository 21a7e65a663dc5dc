import type { ChildProcess } from 'node:child_process';
import { freePort } from '../harness/free-port.mjs';
import {
  killRedisServer,
  spawnRedisServer,
  throwawayArgs,
} from '../harness/redis-server.mjs';

/**
 * A throwaway `redis-server` child process on a port of its own, without persistence, that a
 * test can kill, freeze (SIGSTOP) and thaw (SIGCONT).
 */
export class RedisProcess {
  private child?: ChildProcess;
  private frozen = false;

  private constructor(
    readonly port: number,
    private readonly args: string[],
  ) {}

  /** `extraArgs` go on the redis-server command line after the defaults (e.g. cluster mode). */
  static async start(
    port?: number,
    extraArgs: string[] = [],
  ): Promise<RedisProcess> {
    const chosen = port ?? (await freePort());
    const redis = new RedisProcess(chosen, [
      ...throwawayArgs(chosen),
      ...extraArgs,
    ]);
    await redis.start();
    return redis;
  }

  /** A Redis Sentinel on `port`, run from `configFile` (which it rewrites as it learns). */
  static async startSentinel(
    port: number,
    configFile: string,
  ): Promise<RedisProcess> {
    const sentinel = new RedisProcess(port, [
      configFile,
      '--sentinel',
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
    ]);
    await sentinel.start();
    return sentinel;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** (Re)starts the server on the same port and waits until it answers PING. */
  async start(): Promise<void> {
    if (this.child) throw new Error('redis-server is already running');
    const child = await spawnRedisServer(this.port, this.args);
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
  }

  /** SIGKILL, then waits for the process to be gone. No-op when not running. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.frozen = false;
    await killRedisServer(child);
  }

  /** SIGSTOP: the server keeps its connections open but answers nothing. */
  freeze(): void {
    if (!this.child) throw new Error('redis-server is not running');
    this.child.kill('SIGSTOP');
    this.frozen = true;
  }

  thaw(): void {
    if (!this.child || !this.frozen) return;
    this.child.kill('SIGCONT');
    this.frozen = false;
  }
}
