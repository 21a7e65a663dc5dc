/**
 * One thing the test run checks for or brings up (Redis, a browser, a database).
 * @typedef {object} HarnessPart
 * @property {() => { program: string, debianPackage: string, neededFor: string }[]} missing the prerequisites missing on this machine
 * @property {() => Promise<void>} [start]
 * @property {() => Promise<void>} [stop]
 */
export {};
