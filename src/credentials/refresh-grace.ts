import {
  createCipheriv,
  createDecipheriv,
  hkdfSync,
  randomBytes,
} from 'node:crypto';

/** What an honest retry of a refresh gets back: the very answer of the rotation it repeats. */
export interface SuccessorPair {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  scope: string;
}

/**
 * The key for a rotation's successor pair, derived from the old refresh token. Redis holds
 * only the token's hash, so what it stores for the grace window cannot be read without the
 * token itself.
 */
function keyFor(oldToken: string, loginId: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', oldToken, loginId, 'refresh-grace-v1', 32),
  );
}

/** AES-256-GCM: `iv.tag.ciphertext`, base64url. */
export function sealSuccessor(
  pair: SuccessorPair,
  oldToken: string,
  loginId: string,
): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(oldToken, loginId), iv);
  const sealed = Buffer.concat([
    cipher.update(JSON.stringify(pair), 'utf8'),
    cipher.final(),
  ]);
  return [iv, cipher.getAuthTag(), sealed]
    .map((part) => part.toString('base64url'))
    .join('.');
}

/** The pair sealed under `oldToken`, or null when the blob is not one (wrong token, damaged). */
export function openSuccessor(
  blob: string,
  oldToken: string,
  loginId: string,
): SuccessorPair | null {
  const [iv, tag, sealed] = blob
    .split('.')
    .map((part) => Buffer.from(part, 'base64url'));
  if (!iv || !tag || !sealed) return null;
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      keyFor(oldToken, loginId),
      iv,
    );
    decipher.setAuthTag(tag);
    const text = Buffer.concat([
      decipher.update(sealed),
      decipher.final(),
    ]).toString('utf8');
    return JSON.parse(text) as SuccessorPair;
  } catch {
    return null;
  }
}
