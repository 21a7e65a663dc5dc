import { scrypt as scryptCallback } from 'node:crypto';
import { promisify } from 'node:util';

export interface ScryptOptions {
  N: number;
  r: number;
  p: number;
  maxmem: number;
}

/** Node's scrypt as a promise; it runs on libuv's thread pool, off the event loop. */
export const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: ScryptOptions,
) => Promise<Buffer>;

// OWASP Password Storage Cheat Sheet: scrypt with N=2^17, r=8, p=1.
export const SCRYPT_LOG_N = 17;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
export const SCRYPT_KEY_LENGTH = 32;
export const SCRYPT_MAXMEM = 256 * 1024 * 1024;

/** The cost new hashes are made with. */
export const SCRYPT_OPTIONS: ScryptOptions = {
  N: 2 ** SCRYPT_LOG_N,
  r: SCRYPT_R,
  p: SCRYPT_P,
  maxmem: SCRYPT_MAXMEM,
};
