import { randomUUID } from 'node:crypto';
import type { SecurityEventType } from './security-event-types.js';

/** A stored security event, as `SecurityEventStore.list` answers it. */
export interface SecurityEvent {
  id: string;
  occurredAt: Date;
  type: SecurityEventType;
  /** The account it concerns; null when none. */
  userId: string | null;
  /** Who acted when not the account itself (an admin); null otherwise. */
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  /** The public id of the login it belongs to; never a session id or token. */
  loginId: string | null;
  details: Record<string, unknown>;
  /** Occurrences the row stands for: a coalesced `login.throttled` row counts them; else 1. */
  count: number;
}

/** A row to write: the event and, for coalesced types, the key that folds it into one row. */
export interface SecurityEventRow extends SecurityEvent {
  coalesceKey: string | null;
}

/** Where the request came from, when there was one. */
export interface EventClient {
  ip?: string;
  userAgent?: string;
}

/**
 * Who did it and from where: what an action passes down for the events it records. `actorId`
 * only when not the account itself (an admin); `loginId` only for a login of the account.
 */
export interface EventContext {
  actorId?: string;
  client?: EventClient;
  loginId?: string;
}

/** What a caller says about an event; the id and time are made by `newSecurityEvent`. */
export interface SecurityEventInput {
  type: SecurityEventType;
  userId?: string | null;
  actorId?: string | null;
  client?: EventClient;
  loginId?: string | null;
  details?: Record<string, unknown>;
}

/** Longer user agents are cut: the header is the client's to fill, the row is ours to size. */
const USER_AGENT_MAX = 256;
/** An address is at most an IPv6 one with a zone; anything longer is not an address. */
const IP_MAX = 64;

/**
 * The event with its id, made here and now: a batch retried, or written by two instances,
 * carries the same id and lands once.
 */
export function newSecurityEvent(
  input: SecurityEventInput,
  now = new Date(),
): SecurityEventRow {
  return {
    id: randomUUID(),
    occurredAt: now,
    type: input.type,
    userId: input.userId ?? null,
    // An account acting on itself is no actor of its own event.
    actorId:
      input.actorId && input.actorId !== input.userId ? input.actorId : null,
    ip: input.client?.ip ? input.client.ip.slice(0, IP_MAX) : null,
    userAgent: input.client?.userAgent
      ? input.client.userAgent.slice(0, USER_AGENT_MAX)
      : null,
    loginId: input.loginId ?? null,
    details: input.details ?? {},
    count: 1,
    coalesceKey: null,
  };
}
