/**
 * Rewrites the configuration table in README.md from the environment schema's `@Env` docs:
 * `npm run config:table`. src/infra/config/config-table.spec.ts fails while the two differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { withConfigTable } from '../src/infra/config/config-table.js';

const target = resolve(process.cwd(), 'README.md');
writeFileSync(target, withConfigTable(readFileSync(target, 'utf8')));
process.stdout.write(`Wrote the configuration table in ${target}\n`);
