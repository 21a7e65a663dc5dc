import { chromiumPath } from './programs.mjs';

/** @type {import('./part.mjs').HarnessPart} */
export const chromium = {
  missing: () =>
    chromiumPath()
      ? []
      : [
          {
            program: 'chromium',
            debianPackage: 'chromium',
            neededFor: 'the browser tests in test/browser',
          },
        ],
};
