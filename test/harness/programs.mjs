import process from 'node:process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * @typedef {object} Prerequisite A program the suite needs, and the Debian package that brings it.
 * @property {string} program
 * @property {string} debianPackage
 * @property {string} neededFor
 */

/**
 * The absolute path of an executable `program` on PATH, if there is one.
 * @param {string} program
 * @returns {string | undefined}
 */
export function onPath(program) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/**
 * Debian's chromium, which the browser tests drive; a browser is never downloaded.
 * @returns {string | undefined}
 */
export function chromiumPath() {
  return existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : onPath('chromium');
}

/**
 * The one message a run stops with when programs are missing: what, what for, how to install.
 * @param {Prerequisite[]} missing
 * @returns {string}
 */
export function missingMessage(missing) {
  const packages = [...new Set(missing.map((m) => m.debianPackage))];
  return [
    'The test suite cannot run: these programs are missing.',
    ...missing.map((m) => `  - ${m.program} (${m.neededFor})`),
    'Install them (Debian/Ubuntu) with:',
    `  sudo apt-get install ${packages.join(' ')}`,
  ].join('\n');
}
