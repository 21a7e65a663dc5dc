import { scrypt as scryptCallback } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * Node's scrypt as a promise, on libuv's thread pool: only to verify hashes made before
 * argon2id (`scrypt$logN$r$p$salt$hash`), which are rehashed at their next login.
 */
export const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** Enough for the scheme's cost (N=2^17, r=8: 128 MiB) with room to spare. */
export const SCRYPT_MAXMEM = 256 * 1024 * 1024;

/** The legacy scheme's cost (OWASP's scrypt row: N=2^17, r=8, p=1); the benchmark's reference app hashes with it. */
export const SCRYPT_KEY_LENGTH = 32;
export const SCRYPT_OPTIONS = {
  N: 2 ** 17,
  r: 8,
  p: 1,
  maxmem: SCRYPT_MAXMEM,
};
