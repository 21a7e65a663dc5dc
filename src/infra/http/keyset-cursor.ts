import { DomainError } from './domain-error.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A row's place in a listing ordered by a time and then an id (users, security events). */
export interface KeysetPosition {
  /** ISO 8601 with milliseconds, UTC. */
  at: string;
  id: string;
}

/**
 * A listing's `nextCursor`: the last row's place in the order, opaque to clients (base64url
 * JSON), so the encoding can change without an API change.
 */
export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.at, position.id])).toString(
    'base64url',
  );
}

/** The position a cursor names; a 400 for anything this service did not hand out. */
export function decodeCursor(cursor: string): KeysetPosition {
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
    return { at: decoded[0], id: decoded[1] };
  throw new DomainError('validation_failed', 'The request is invalid', {
    fields: ['after must be a nextCursor from a previous page'],
  });
}
