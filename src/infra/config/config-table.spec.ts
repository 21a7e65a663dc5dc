import { readFileSync } from 'node:fs';
import {
  configTableRows,
  readmeConfigRows,
  withConfigTable,
} from './config-table.js';

const README = readFileSync(
  new URL('../../../README.md', import.meta.url),
  'utf8',
);

describe("README.md's configuration table", () => {
  it('is the table the schema declares (npm run config:table rewrites it)', () => {
    expect(readmeConfigRows(README)).toEqual(configTableRows());
  });

  it('is rewritten in place, the rest of the README untouched', () => {
    const stale = README.replace('| HTTP port', '| the port');
    const rewritten = withConfigTable(stale);
    expect(readmeConfigRows(rewritten)).toEqual(configTableRows());
    expect(rewritten.split('## Configuration')[0]).toBe(
      README.split('## Configuration')[0],
    );
    expect(rewritten.split('## Routes')[1]).toBe(README.split('## Routes')[1]);
  });
});
