import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Personal access tokens: `sbat_` + 32 random base62 characters + a 6-character base62 CRC32
 * of what precedes it. The fixed prefix lets secret scanners recognise a leaked token; the
 * checksum lets the service refuse a mistyped or made-up one without a lookup. 32 base62
 * characters carry 190 random bits.
 */
const PERSONAL_TOKEN_PREFIX = 'sbat_';
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** The largest multiple of 62 below 256: bytes at or above it are dropped, so no character is favoured. */
const UNBIASED_LIMIT = 248;
export const PERSONAL_TOKEN_LENGTH =
  PERSONAL_TOKEN_PREFIX.length + RANDOM_LENGTH + CHECKSUM_LENGTH;
const PERSONAL_TOKEN_PATTERN = new RegExp(
  `^${PERSONAL_TOKEN_PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`,
);
/** How much of the secret the token list shows: the prefix and four random characters. */
const DISPLAY_PREFIX_LENGTH = PERSONAL_TOKEN_PREFIX.length + 4;

/** The token's checksum: CRC32 of the prefix and random part, as 6 base62 characters. */
export function personalTokenChecksum(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < UNBIASED_LIMIT) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A fresh token. */
export function generatePersonalToken(): string {
  const body = PERSONAL_TOKEN_PREFIX + randomBase62(RANDOM_LENGTH);
  return body + personalTokenChecksum(body);
}

/** True when the value claims to be a personal token (the guard's dispatch), valid or not. */
export function looksLikePersonalToken(value: string): boolean {
  return value.startsWith(PERSONAL_TOKEN_PREFIX);
}

/** True for a well-formed token whose checksum matches: only those are worth a lookup. */
export function isWellFormedPersonalToken(value: string): boolean {
  if (!PERSONAL_TOKEN_PATTERN.test(value)) return false;
  const body = value.slice(0, -CHECKSUM_LENGTH);
  return personalTokenChecksum(body) === value.slice(-CHECKSUM_LENGTH);
}

/** What the token list shows of a secret, so its owner can tell tokens apart. */
export function personalTokenDisplayPrefix(token: string): string {
  return token.slice(0, DISPLAY_PREFIX_LENGTH);
}
