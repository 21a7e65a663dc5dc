import { Injectable } from '@nestjs/common';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import pLimit from 'p-limit';
import {
  scrypt,
  SCRYPT_KEY_LENGTH,
  SCRYPT_LOG_N,
  SCRYPT_MAXMEM,
  SCRYPT_OPTIONS,
  SCRYPT_P,
  SCRYPT_R,
} from './scrypt.js';

/**
 * At most one hash per core but one at a time: a login storm queues here instead of taking
 * every core from the event loop, so authenticated requests keep flowing meanwhile.
 */
const hashing = pLimit(Math.max(1, availableParallelism() - 1));
const scryptAsync = (...args: Parameters<typeof scrypt>) =>
  hashing(() => scrypt(...args));

/**
 * scrypt from Node's crypto: memory-hard, and run on libuv's thread pool, off the event loop,
 * never on more threads than leave a core free for it.
 * Stored as `scrypt$logN$r$p$salt$hash` so the cost can be raised later without breaking old hashes.
 */
@Injectable()
export class PasswordHasher {
  private dummyHash?: Promise<string>;

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await scryptAsync(
      password,
      salt,
      SCRYPT_KEY_LENGTH,
      SCRYPT_OPTIONS,
    );
    return [
      'scrypt',
      SCRYPT_LOG_N,
      SCRYPT_R,
      SCRYPT_P,
      salt.toString('base64'),
      key.toString('base64'),
    ].join('$');
  }

  async verify(password: string, stored: string): Promise<boolean> {
    const parts = stored.split('$');
    if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
    const [logN, r, p] = parts.slice(1, 4).map(Number);
    const salt = Buffer.from(parts[4], 'base64');
    const expected = Buffer.from(parts[5], 'base64');
    const actual = await scryptAsync(password, salt, expected.length, {
      N: 2 ** logN,
      r,
      p,
      maxmem: SCRYPT_MAXMEM,
    });
    // HMAC inside scrypt pads short keys with zero bytes: without this check "pw\0" would
    // verify as "pw". No valid password contains NUL (see the password policy).
    return timingSafeEqual(actual, expected) && !password.includes('\u0000');
  }

  /** Spends the same work as a real check, so an unknown user answers as slowly as a wrong password. */
  async verifyDummy(password: string): Promise<false> {
    this.dummyHash ??= this.hash(randomBytes(16).toString('base64'));
    await this.verify(password, await this.dummyHash);
    return false;
  }
}
