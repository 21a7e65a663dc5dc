import type { Redis } from 'ioredis';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';
import { DatabaseInspector } from './database.js';
import { FILE_MARK, MADE_UP_ADDRESS_PREFIX } from './logins.js';
import { removeMailOfThisFile } from './mail.js';
import { keysOfUser, scanKeys, userLoginKeys } from './redis-inspection.js';

/** PostgreSQL's SQLSTATE for a relation that does not exist. */
const UNDEFINED_TABLE = '42P01';

interface Account {
  userId: string;
  username: string;
}

/**
 * The accounts this test file created in the run's database: those whose name carries the
 * file's mark. The one place that knows where accounts are kept. (The database itself is
 * dropped at the end of the run; their Redis keys are what must go.)
 */
async function accountsOfThisFile(): Promise<Account[]> {
  const database = new DatabaseInspector();
  try {
    const rows = await database.query<{ id: string; username: string }>(
      'select id, username from users where position($1 in username) > 0',
      [FILE_MARK],
    );
    return rows.map((row) => ({ userId: row.id, username: row.username }));
  } catch (err) {
    // No accounts table yet (undefined_table): no app has booted, and migrated, in this run so
    // far, so this file (a script spec, say) created no account.
    if ((err as { code?: string }).code === UNDEFINED_TABLE) return [];
    throw err;
  } finally {
    await database.close();
  }
}

/** The Redis cache keys of the personal tokens these accounts still hold (revoked ones' tombstones expire). */
async function personalTokenKeysOf(accounts: Account[]): Promise<string[]> {
  if (accounts.length === 0) return [];
  const database = new DatabaseInspector();
  try {
    const rows = await database.query<{ token_hash: string }>(
      'select token_hash from personal_tokens where user_id = any($1::uuid[])',
      [accounts.map((account) => account.userId)],
    );
    return rows.map((row) => redisKeys.personalToken(row.token_hash));
  } finally {
    await database.close();
  }
}

/** Every test request comes from the loopback address, unless it names one of its own. */
const LOOPBACK = ['127.0.0.1', '::ffff:127.0.0.1', '::1'];

/**
 * Removes what this test file wrote to the test database: its accounts with their logins,
 * sessions, tokens and cached personal tokens, and the failed-login buckets of every name it made up (many name no
 * account), of the addresses it made up and of the loopback address, and the mail it left in
 * the outbox. Run after each e2e file
 * (test/helpers/cleanup-after-file.ts), so that the database does not grow run after run.
 */
export async function removeWhatThisFileWrote(redis: Redis): Promise<number> {
  const keys = new Set([
    ...(await scanKeys(
      redis,
      redisKeys.loginFailuresOfAccount(`*${FILE_MARK}*`),
    )),
    ...(await scanKeys(
      redis,
      redisKeys.loginFailuresOfAddress(`${MADE_UP_ADDRESS_PREFIX}*`),
    )),
    ...LOOPBACK.map((address) => redisKeys.loginFailuresOfAddress(address)),
    ...(await scanKeys(
      redis,
      redisKeys.passwordResetRequestsOfLogin(`*${FILE_MARK}*`, 'minute'),
    )),
    ...(await scanKeys(
      redis,
      redisKeys.passwordResetRequestsOfLogin(`*${FILE_MARK}*`, 'hour'),
    )),
    ...(await scanKeys(
      redis,
      redisKeys.passwordResetRequestsOfAddress(
        `${MADE_UP_ADDRESS_PREFIX}*`,
        'minute',
      ),
    )),
    ...(await scanKeys(
      redis,
      redisKeys.passwordResetRequestsOfAddress(
        `${MADE_UP_ADDRESS_PREFIX}*`,
        'hour',
      ),
    )),
    ...LOOPBACK.flatMap((address) => [
      redisKeys.passwordResetRequestsOfAddress(address, 'minute'),
      redisKeys.passwordResetRequestsOfAddress(address, 'hour'),
    ]),
  ]);
  const accounts = await accountsOfThisFile();
  for (const account of accounts) {
    for (const key of await keysOfUser(redis, account)) keys.add(key);
    for (const key of await userLoginKeys(redis, account.userId)) keys.add(key);
    keys.add(redisKeys.passwordResetMailsOfAccount(account.userId, 'minute'));
    keys.add(redisKeys.passwordResetMailsOfAccount(account.userId, 'hour'));
  }
  for (const key of await personalTokenKeysOf(accounts)) keys.add(key);
  if (keys.size > 0) await redis.del(...keys);
  await removeMailOfThisFile();
  return keys.size;
}

/**
 * For specs that write keys straight to Redis (the scripts' specs): each key passed to the
 * function returned is deleted after the test that named it.
 */
export function removedAfterEach(redis: Redis): (...keys: string[]) => void {
  const written = new Set<string>();
  afterEach(async () => {
    if (written.size > 0) await redis.del(...written);
    written.clear();
  });
  return (...keys) => keys.forEach((key) => written.add(key));
}
