/** No wait between two tries grows beyond an hour, however long the mail has been waiting. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

/**
 * How long to wait after the `attempt`-th failed try (1 for the first): `baseMs`, then twice
 * as long each time, at most an hour. With the default 30 s: 30 s, 1 min, 2 min … 32 min,
 * then hourly, about 30 tries in 24 hours.
 */
export function retryDelayMs(attempt: number, baseMs: number): number {
  const doublings = Math.max(0, Math.min(attempt - 1, 40));
  return Math.min(baseMs * 2 ** doublings, MAX_RETRY_DELAY_MS);
}
