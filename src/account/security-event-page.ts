import type { SecurityEvent } from '../events/security-event.js';
import type { SecurityEventFilter } from '../events/security-event.store.js';
import { plainAddress } from '../infra/http/client.js';
import { describeDevice } from '../infra/http/device.js';
import { decodeCursor, encodeCursor } from '../infra/http/keyset-cursor.js';
import type {
  AdminSecurityEventDto,
  SecurityEventDto,
} from './dto/security-event.dto.js';

/** What reads a page of events from the record. */
export type EventSource = (
  filter: SecurityEventFilter,
) => Promise<SecurityEvent[]>;

export interface EventPage<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * A page of events, newest first, and the cursor to the next (older) one: one more row is
 * read than shown, so the last page says so without another query.
 */
export async function readEventPage(
  read: EventSource,
  filter: Omit<SecurityEventFilter, 'limit' | 'after'>,
  page: { limit: number; after?: string },
): Promise<EventPage<SecurityEvent>> {
  const after = page.after === undefined ? undefined : decodeCursor(page.after);
  const rows = await read({
    ...filter,
    limit: page.limit + 1,
    after: after && { occurredAt: new Date(after.at), id: after.id },
  });
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor:
      rows.length > page.limit && last
        ? encodeCursor({ at: last.occurredAt.toISOString(), id: last.id })
        : null,
  };
}

/**
 * An event as its account's owner sees it: whether an admin acted, not which one, nor from
 * where (an admin's address and browser are the admin's, not the account's).
 */
export function ownEventView(event: SecurityEvent): SecurityEventDto {
  const byAdmin = event.actorId !== null && event.actorId !== event.userId;
  return {
    ...clientView(byAdmin ? { ip: null, userAgent: null } : event),
    id: event.id,
    type: event.type,
    at: event.occurredAt.toISOString(),
    loginId: event.loginId,
    byAdmin,
    count: event.count,
    details: event.details,
  };
}

function clientView(
  event: Pick<SecurityEvent, 'ip' | 'userAgent'>,
): Pick<SecurityEventDto, 'ip' | 'userAgent' | 'device'> {
  return {
    ip: event.ip === null ? null : plainAddress(event.ip),
    userAgent: event.userAgent,
    device: event.userAgent === null ? null : describeDevice(event.userAgent),
  };
}

export function adminEventView(event: SecurityEvent): AdminSecurityEventDto {
  return {
    ...ownEventView(event),
    ...clientView(event),
    userId: event.userId,
    actorId: event.actorId,
  };
}
