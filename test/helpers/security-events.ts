import type { SecurityEvent } from '../../src/events/security-event.js';
import { SecurityEventStore } from '../../src/events/security-event.store.js';
import { SecurityEvents } from '../../src/events/security-events.js';
import type { SecurityEventType } from '../../src/events/security-event-types.js';
import { MetricsService } from '../../src/infra/metrics/metrics.service.js';
import { instanceOf, type TestApp } from './test-app.js';
import { eventually, waitUntil } from './waiting.js';

/** The account's security events as the app's store lists them, newest first. */
export function eventsOf(t: TestApp, userId: string): Promise<SecurityEvent[]> {
  return instanceOf(t, SecurityEventStore).list({ userId, limit: 1000 });
}

/** Every event since `since`, newest first, whoever's. */
export function eventsSince(t: TestApp, since: Date): Promise<SecurityEvent[]> {
  return instanceOf(t, SecurityEventStore).list({ since, limit: 10_000 });
}

/** The account's event types, oldest first. */
export async function typesOf(
  t: TestApp,
  userId: string,
): Promise<SecurityEventType[]> {
  return (await eventsOf(t, userId)).map((e) => e.type).reverse();
}

/**
 * Waits until the account has an event of `type` (and `matching`, if given): events of changes
 * in Redis are written in batches, about a second later.
 */
export function eventOf(
  t: TestApp,
  userId: string,
  type: SecurityEventType,
  matching: (event: SecurityEvent) => boolean = () => true,
  limitMs = 10_000,
): Promise<SecurityEvent> {
  let seen: SecurityEvent[] = [];
  return eventually(
    async () => {
      seen = await eventsOf(t, userId);
      return seen.find((e) => e.type === type && matching(e));
    },
    () =>
      `a ${type} event of ${userId}; it has ${JSON.stringify(seen.map((e) => e.type))}`,
    limitMs,
  );
}

/** One sample of the app's /metrics text, 0 when absent. */
export async function metricOf(
  t: TestApp,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await instanceOf(t, MetricsService).scrape();
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',');
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (match && match[1] === name && (match[2] ?? '') === wanted)
      return Number(match[3]);
  }
  return 0;
}

/** Waits until the app holds no event in memory: whatever it recorded is in the table. */
export async function waitForEmptyBuffer(t: TestApp): Promise<void> {
  const events = instanceOf(t, SecurityEvents);
  await waitUntil(
    () => Promise.resolve(events.depth === 0),
    () => `the event buffer to empty (depth ${events.depth})`,
  );
}
