import process from 'node:process';
import { HARNESS } from './harness/parts.mjs';
import { missingMessage } from './harness/programs.mjs';

// Plain JavaScript: jest loads its global setup outside the test module system, where the
// TypeScript sources' `.js` import specifiers would not resolve.
export default async function globalSetup() {
  const missing = HARNESS.flatMap((part) => part.missing());
  if (missing.length > 0) {
    process.stderr.write(`\n${missingMessage(missing)}\n\n`);
    process.exit(1);
  }
  for (const part of HARNESS) await part.start?.();
}
