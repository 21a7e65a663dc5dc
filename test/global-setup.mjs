import { postgres } from './harness/postgres.mjs';

/** Brings up what the e2e specs need; global-teardown.mjs stops it. */
export default async function globalSetup() {
  const missing = postgres.missing();
  if (missing.length > 0)
    throw new Error(
      missing
        .map(
          (m) =>
            `${m.program} is missing (${m.neededFor}): apt-get install ${m.debianPackage}`,
        )
        .join('\n'),
    );
  await postgres.start();
}
