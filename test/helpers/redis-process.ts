import { ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { freePort } from './free-port.js';

export { freePort };

/** One PING over a raw socket; true on +PONG within `timeoutMs`. */
export function pingPort(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

const live = new Set<ChildProcess>();
// Last resort if a test run dies between start and cleanup: never leave a redis-server behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

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
      '--port',
      String(chosen),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
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
    const child = spawn('redis-server', this.args, { stdio: 'ignore' });
    this.child = child;
    live.add(child);
    child.once('exit', () => {
      live.delete(child);
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + 10_000;
    while (!(await pingPort(this.port))) {
      if (!this.child) throw new Error('redis-server exited during start-up');
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`redis-server did not start on port ${this.port}`);
      }
      await sleep(50);
    }
  }

  /** SIGKILL, then waits for the process to be gone. No-op when not running. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    this.frozen = false;
    await exited;
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
