import { execFile, execFileSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../harness/free-port.mjs';

const run = promisify(execFile);

/** Debian keeps the server binaries off PATH, one directory per major version. */
function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/** initdb refuses to run as root: then the server runs as the `postgres` account. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0
    ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
    : [command, args];
}

const live = new Set<PostgresProcess>();
// Last resort if a run dies between start and cleanup: never leave a postgres behind.
process.once('exit', () => {
  for (const pg of live) pg.killNow();
});

/**
 * A throwaway PostgreSQL cluster (initdb + pg_ctl) in a temporary directory, on a port of its
 * own, with trust authentication for `postgres`. A test can stop and restart it, and freeze
 * (SIGSTOP) and thaw (SIGCONT) every one of its processes.
 */
export class PostgresProcess {
  private frozen = false;

  private constructor(
    readonly port: number,
    private readonly bin: string,
    private readonly dir: string,
    private readonly settings: string[],
  ) {}

  /** `settings` are extra `name=value` server settings, such as `log_statement=all`. */
  static async create(
    port?: number,
    settings: string[] = [],
  ): Promise<PostgresProcess> {
    const bin = postgresBinDir();
    if (!bin)
      throw new Error(
        'PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: apt-get install postgresql',
      );
    const dir = mkdtempSync(join(tmpdir(), 'auth-test-pg-'));
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
      chownSync(dir, uid, gid);
    }
    const pg = new PostgresProcess(
      port ?? (await freePort()),
      bin,
      dir,
      settings,
    );
    const [cmd, args] = asServerUser(join(bin, 'initdb'), [
      '-D',
      pg.dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    await run(cmd, args);
    live.add(pg);
    await pg.start();
    return pg;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** The maintenance database's URL; tests create their own databases in it. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  urlOf(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${this.dir}`,
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=100',
      ...this.settings.map((setting) => `-c ${setting}`),
    ].join(' ');
    const [cmd, args] = asServerUser(join(this.bin, 'pg_ctl'), [
      '-D',
      this.dataDir,
      '-l',
      join(this.dir, 'server.log'),
      '-o',
      options,
      '-w',
      'start',
    ]);
    await run(cmd, args);
  }

  /** The server's log (stderr), for counting the statements it was sent. */
  log(): string {
    return readFileSync(join(this.dir, 'server.log'), 'utf8');
  }

  /** A fast shutdown: open connections are cut, as when a server goes away. */
  async stop(): Promise<void> {
    if (this.frozen) this.thaw();
    const [cmd, args] = asServerUser(join(this.bin, 'pg_ctl'), [
      '-D',
      this.dataDir,
      '-m',
      'fast',
      '-w',
      'stop',
    ]);
    await run(cmd, args);
  }

  /** Every process of the cluster: the postmaster and its children (backends, writers). */
  private pids(): number[] {
    const file = join(this.dataDir, 'postmaster.pid');
    if (!existsSync(file)) return [];
    const postmaster = Number(readFileSync(file, 'utf8').split('\n')[0]);
    const children = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
          // Field 4 (ppid) follows the parenthesised command name.
          return (
            Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) ===
            postmaster
          );
        } catch {
          return false;
        }
      })
      .map(Number);
    return [postmaster, ...children];
  }

  /** The server hangs: connections stay open, nothing answers. */
  freeze(): void {
    for (const pid of this.pids()) process.kill(pid, 'SIGSTOP');
    this.frozen = true;
  }

  thaw(): void {
    for (const pid of this.pids()) process.kill(pid, 'SIGCONT');
    this.frozen = false;
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Synchronous, for process exit. */
  killNow(): void {
    for (const pid of this.pids()) {
      try {
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGQUIT');
      } catch {
        // already gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
