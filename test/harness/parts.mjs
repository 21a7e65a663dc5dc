import { chromium } from './chromium.mjs';
import { postgres } from './postgres.mjs';
import { redis } from './redis.mjs';

/**
 * What a test run needs, in start order; the teardown stops them in reverse.
 * @type {import('./part.mjs').HarnessPart[]}
 */
export const HARNESS = [redis, postgres, chromium];
