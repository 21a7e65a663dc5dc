// Fails when a package in package-lock.json asks for a Node that the project's own
// `engines.node` minimum does not satisfy: npm only warns (EBADENGINE) and installs it anyway,
// and the first sign is then a crash on the oldest Node we promise to run on.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';
import semver from 'semver';

/** @typedef {{ version?: string, engines?: { node?: unknown } }} Manifest */

/** @param {string} file */
function read(file) {
  /** @type {unknown} */
  const json = JSON.parse(
    readFileSync(new URL(`../${file}`, import.meta.url), 'utf8'),
  );
  return /** @type {Manifest & { packages?: Record<string, Manifest> }} */ (
    json
  );
}

const projectRange = read('package.json').engines?.node;
const minimum =
  typeof projectRange === 'string' ? semver.minVersion(projectRange) : null;
if (!minimum) {
  process.stderr.write(
    `package.json: engines.node ${JSON.stringify(projectRange)} names no minimum version\n`,
  );
  process.exit(1);
}

const offenders = [];
for (const [path, entry] of Object.entries(
  read('package-lock.json').packages ?? {},
)) {
  const wanted = entry.engines?.node;
  // Very old packages list engines as an array of strings; those ask for ancient Nodes only.
  if (path === '' || typeof wanted !== 'string') continue;
  // An unparsable range does not satisfy either, so it is reported too.
  if (!semver.satisfies(minimum, wanted)) {
    offenders.push(`  ${path} ${entry.version}: node ${wanted}`);
  }
}

if (offenders.length > 0) {
  process.stderr.write(
    `These packages do not admit Node ${minimum.version} (package.json engines.node: ${String(projectRange)}):\n` +
      `${offenders.join('\n')}\n`,
  );
  process.exit(1);
}
