import { Injectable } from '@nestjs/common';
import {
  type Algorithm,
  hash as argon2Hash,
  parseOptions,
  verify as argon2Verify,
} from '@node-rs/argon2';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { AppConfig } from '../infra/config/app-config.js';
import { HashingQueue } from './hashing-queue.js';
import { scrypt, SCRYPT_MAXMEM } from './scrypt.js';

/** The package's `Algorithm` is a const enum, which isolatedModules cannot read. */
const ARGON2ID = 2 as Algorithm;

/** What a password check found: whether it matched, and whether the hash should be remade. */
export interface PasswordCheck {
  valid: boolean;
  /** The hash is scrypt, or argon2id with weaker parameters than the configured ones. */
  rehash: boolean;
}

/**
 * argon2id (@node-rs/argon2, on libuv's thread pool, off the event loop), stored as PHC
 * strings. Hashes run one per core but one, so a login storm leaves the event loop a core,
 * and a hash that cannot start within LOGIN_MAX_WAIT_MS is refused (`overloaded`) instead
 * of queueing without bound. Hashes of the earlier scrypt scheme still verify, and ask for
 * a rehash.
 */
@Injectable()
export class PasswordHasher {
  private readonly queue: HashingQueue;
  private readonly options: {
    memoryCost: number;
    timeCost: number;
    parallelism: 1;
    algorithm: Algorithm;
  };
  private dummyHash?: Promise<string>;

  constructor(config: AppConfig) {
    this.queue = new HashingQueue(
      Math.max(1, availableParallelism() - 1),
      config.loginMaxWaitMs,
    );
    this.options = {
      memoryCost: config.passwordHash.memoryKib,
      timeCost: config.passwordHash.iterations,
      parallelism: 1,
      algorithm: ARGON2ID,
    };
  }

  hash(password: string): Promise<string> {
    return this.queue.run(() => argon2Hash(password, this.options));
  }

  async verify(password: string, stored: string): Promise<PasswordCheck> {
    if (stored.startsWith('scrypt$'))
      return { valid: await this.verifyScrypt(password, stored), rehash: true };
    const current = parsed(stored);
    if (!current) return { valid: false, rehash: false };
    const valid = await this.queue.run(() => argon2Verify(stored, password));
    return {
      valid,
      rehash:
        current.algorithm !== ARGON2ID ||
        current.memoryCost < this.options.memoryCost ||
        current.timeCost < this.options.timeCost,
    };
  }

  /** Spends the same work as a real check, so an unknown user answers as slowly as a wrong password. */
  async verifyDummy(password: string): Promise<false> {
    this.dummyHash ??= this.hash(randomBytes(16).toString('base64'));
    await this.verify(password, await this.dummyHash);
    return false;
  }

  /** The scheme before argon2id: `scrypt$logN$r$p$salt$hash`. */
  private async verifyScrypt(password: string, stored: string) {
    const parts = stored.split('$');
    if (parts.length !== 6) return false;
    const [logN, r, p] = parts.slice(1, 4).map(Number);
    const salt = Buffer.from(parts[4], 'base64');
    const expected = Buffer.from(parts[5], 'base64');
    const actual = await this.queue.run(() =>
      scrypt(password, salt, expected.length, {
        N: 2 ** logN,
        r,
        p,
        maxmem: SCRYPT_MAXMEM,
      }),
    );
    // HMAC inside scrypt pads short keys with zero bytes: without this check "pw\0" would
    // verify as "pw". No valid password contains NUL (see the password policy).
    return timingSafeEqual(actual, expected) && !password.includes('\u0000');
  }
}

function parsed(stored: string): ReturnType<typeof parseOptions> | null {
  try {
    return parseOptions(stored);
  } catch {
    return null;
  }
}
