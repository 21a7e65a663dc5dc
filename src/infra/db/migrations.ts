import { fileURLToPath } from 'node:url';

/** The committed SQL migrations (drizzle-kit's output), at the repository root in source and image alike. */
export const MIGRATIONS_FOLDER = fileURLToPath(
  new URL('../../../drizzle', import.meta.url),
);

/**
 * Key of the session-level advisory lock that serialises migrations between instances
 * (pg_advisory_lock takes a bigint; this one spells "authmigr").
 */
export const MIGRATION_LOCK_KEY = 0x617574686d696772n;
