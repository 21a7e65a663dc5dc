import { createHash } from 'node:crypto';

/** Secrets (tokens, session ids) are stored and looked up only by this digest. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}
