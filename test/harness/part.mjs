/**
 * One thing the test run checks for or brings up (Redis, a browser, a database): the global
 * setup checks every part's prerequisites first, then starts the parts in order; the teardown
 * stops them in reverse.
 * @typedef {object} HarnessPart
 * @property {() => import('./programs.mjs').Prerequisite[]} missing the prerequisites missing on this machine
 * @property {() => Promise<void>} [start]
 * @property {() => Promise<void>} [stop]
 */
export {};
