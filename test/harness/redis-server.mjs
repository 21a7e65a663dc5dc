import process from 'node:process';
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** @typedef {import('node:child_process').ChildProcess} ChildProcess */

/** @type {Set<ChildProcess>} */
const live = new Set();
// Last resort if a test run dies between start and cleanup: never leave a redis-server behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * One PING over a raw socket; true on +PONG within `timeoutMs`.
 * @param {number} port
 * @returns {Promise<boolean>}
 */
export function pingPort(port, timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    /** @param {boolean} ok */
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/**
 * The command line of a throwaway server: localhost only, no persistence.
 * @param {number} port
 * @returns {string[]}
 */
export function throwawayArgs(port) {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ];
}

/**
 * Spawns `redis-server args` and resolves once it answers PING on `port`; rejects (and kills
 * it) when it exits first or does not answer within 10 s.
 * @param {number} port
 * @param {string[]} args
 * @returns {Promise<ChildProcess>}
 */
export async function spawnRedisServer(port, args) {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  live.add(child);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    live.delete(child);
  });
  const deadline = Date.now() + 10_000;
  while (!(await pingPort(port))) {
    if (exited) throw new Error('redis-server exited during start-up');
    if (Date.now() > deadline) {
      await killRedisServer(child);
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await delay(50);
  }
  return child;
}

/**
 * SIGKILL, then waits for the process to be gone.
 * @param {ChildProcess} child
 * @returns {Promise<void>}
 */
export async function killRedisServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
