import { readFileSync } from 'node:fs';
import { SECURITY_EVENT_TYPES } from './security-event-types.js';

const README = readFileSync(
  new URL('../../README.md', import.meta.url),
  'utf8',
);
const START = '<!-- event-types:start -->';
const END = '<!-- event-types:end -->';

describe("README.md's table of security-event types", () => {
  it('names every type of the list, in its order, and no other', () => {
    const table = README.slice(
      README.indexOf(START) + START.length,
      README.indexOf(END),
    );
    const named = [...table.matchAll(/^\| `([a-z_.]+)` +\|/gm)].map(
      (match) => match[1],
    );
    expect(named).toEqual([...SECURITY_EVENT_TYPES]);
  });
});
