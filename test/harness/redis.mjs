import process from 'node:process';
import { freePort } from './free-port.mjs';
import { onPath } from './programs.mjs';
import {
  killRedisServer,
  spawnRedisServer,
  throwawayArgs,
} from './redis-server.mjs';

/** @typedef {import('./part.mjs').HarnessPart} HarnessPart */

// Kept on globalThis: jest loads the global setup and teardown modules separately.
const state =
  /** @type {{ harnessRedis?: import('node:child_process').ChildProcess }} */ (
    globalThis
  );

/**
 * Real Redis for the run. An explicit REDIS_URL is honoured; without one a throwaway
 * `redis-server` is started on a free port, handed to the test files through REDIS_URL
 * (workers inherit the environment), and killed at the end. redis-server is needed either
 * way: specs start their own instances to kill, freeze or cluster.
 * @type {HarnessPart}
 */
export const redis = {
  missing: () =>
    onPath('redis-server')
      ? []
      : [
          {
            program: 'redis-server',
            debianPackage: 'redis-server',
            neededFor: 'the e2e tests run against real Redis',
          },
        ],

  async start() {
    if (process.env.REDIS_URL) return;
    const port = await freePort();
    state.harnessRedis = await spawnRedisServer(port, throwawayArgs(port));
    process.env.REDIS_URL = `redis://127.0.0.1:${port}/0`;
  },

  async stop() {
    if (state.harnessRedis) await killRedisServer(state.harnessRedis);
    state.harnessRedis = undefined;
  },
};
