import { DomainError } from '../infra/http/domain-error.js';
import type { UserListPosition } from '../users/user.repository.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The listing's `nextCursor`: the last user's place in the order, opaque to clients
 * (base64url JSON), so the encoding can change without an API change.
 */
export function encodeUserCursor(position: UserListPosition): string {
  return Buffer.from(
    JSON.stringify([position.createdAt, position.id]),
  ).toString('base64url');
}

/** The position a cursor names; a 400 for anything this service did not hand out. */
export function decodeUserCursor(cursor: string): UserListPosition {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (
    Array.isArray(decoded) &&
    decoded.length === 2 &&
    typeof decoded[0] === 'string' &&
    typeof decoded[1] === 'string' &&
    ISO_MS.test(decoded[0]) &&
    !Number.isNaN(Date.parse(decoded[0])) &&
    UUID.test(decoded[1])
  )
    return { createdAt: decoded[0], id: decoded[1] };
  throw new DomainError('validation_failed', 'The request is invalid', {
    fields: ['after must be a nextCursor from a previous page'],
  });
}
