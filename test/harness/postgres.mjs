import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { URL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.mjs';

const run = promisify(execFile);

/** Where the suite looks when DATABASE_URL is not set: the development machine's server. */
const LOCAL_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * @typedef {object} Started
 * @property {string} serverUrl the server's maintenance URL, to drop the run's database from
 * @property {string} database
 * @property {{ bin: string, dir: string }} [own] the throwaway server this run started
 */

// Kept on globalThis: jest loads the global setup and teardown modules separately.
const state = /** @type {{ harnessPostgres?: Started }} */ (globalThis);

/** Debian keeps the server binaries off PATH, one directory per major version. */
function binDir() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))[0];
  return version ? join(root, version, 'bin') : undefined;
}

/** initdb refuses to run as root: then the server runs as the `postgres` account. */
function asServerUser(/** @type {string} */ cmd, /** @type {string[]} */ args) {
  return process.getuid?.() === 0
    ? run('runuser', ['-u', 'postgres', '--', cmd, ...args])
    : run(cmd, args);
}

async function answers(/** @type {string} */ url) {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 2000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function admin(/** @type {string} */ url, /** @type {string} */ sql) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A throwaway cluster in a temporary directory, trust authentication, on a free port. */
async function startThrowaway() {
  const bin = binDir();
  if (!bin) throw new Error('no initdb under /usr/lib/postgresql/*/bin');
  const dir = mkdtempSync(join(tmpdir(), 'auth-test-pg-'));
  if (process.getuid?.() === 0) {
    const id = (/** @type {string} */ flag) =>
      Number(execFileSync('id', [flag, 'postgres']).toString());
    chownSync(dir, id('-u'), id('-g'));
  }
  const port = await freePort();
  const data = join(dir, 'data');
  await asServerUser(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '--no-sync',
    '-E',
    'UTF8',
  ]);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c synchronous_commit=off`;
  await asServerUser(join(bin, 'pg_ctl'), [
    '-D',
    data,
    '-l',
    join(dir, 'server.log'),
    '-o',
    options,
    '-w',
    'start',
  ]);
  return { bin, dir, url: `postgres://postgres@127.0.0.1:${port}/postgres` };
}

/**
 * Real PostgreSQL for the run, in a database of its own that DATABASE_URL then names (the
 * workers inherit it): on the server DATABASE_URL names, else on the local one
 * (127.0.0.1:5432), else on a throwaway server started here (initdb + pg_ctl). The teardown
 * drops the database and stops a throwaway server.
 * @type {Required<import('./part.mjs').HarnessPart>}
 */
export const postgres = {
  missing: () =>
    binDir()
      ? []
      : [
          {
            program: 'initdb',
            debianPackage: 'postgresql',
            neededFor:
              'the e2e tests run against real PostgreSQL and start servers of their own',
          },
        ],

  async start() {
    let serverUrl = process.env.DATABASE_URL || LOCAL_SERVER;
    let own;
    if (!(await answers(serverUrl))) {
      if (process.env.DATABASE_URL)
        throw new Error(
          `DATABASE_URL=${process.env.DATABASE_URL} does not answer; unset it to let the tests start a PostgreSQL of their own`,
        );
      const started = await startThrowaway();
      own = { bin: started.bin, dir: started.dir };
      serverUrl = started.url;
    }
    const database = `auth_test_${process.pid}_${randomBytes(3).toString('hex')}`;
    await admin(serverUrl, `create database ${database}`);
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    process.env.DATABASE_URL = url.toString();
    state.harnessPostgres = { serverUrl, database, own };
  },

  async stop() {
    const started = state.harnessPostgres;
    if (!started) return;
    state.harnessPostgres = undefined;
    try {
      await admin(
        started.serverUrl,
        `drop database if exists ${started.database} with (force)`,
      );
    } finally {
      if (started.own) {
        const { bin, dir } = started.own;
        await asServerUser(join(bin, 'pg_ctl'), [
          '-D',
          join(dir, 'data'),
          '-m',
          'immediate',
          '-w',
          'stop',
        ]).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      }
    }
  },
};
