import { hash } from 'node:crypto';

/**
 * Secrets (tokens, session ids) are stored and looked up only by this digest. One-shot
 * `crypto.hash`: no Hash object per call, and it runs on every authenticated request.
 */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'base64url');
}
