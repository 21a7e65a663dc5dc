import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/**
 * What a wait is for, named in its failure: a string, or a function called on giving up (to
 * name the last value seen).
 */
export type WaitDescription = string | (() => string);

/** Polls `probe` every `intervalMs` until it returns a value other than undefined, or fails after `limitMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: WaitDescription,
  limitMs = 10_000,
  intervalMs = 200,
): Promise<T> {
  const giveUp = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > giveUp)
      throw new Error(
        `gave up waiting for ${typeof what === 'string' ? what : what()}`,
      );
    await sleep(intervalMs);
  }
}

/** Polls `check` until it holds; throws with `what` when it never does within `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  what: WaitDescription,
  timeoutMs = 10_000,
  intervalMs = 100,
): Promise<void> {
  await eventually(
    async () => ((await check()) ? true : undefined),
    what,
    timeoutMs,
    intervalMs,
  );
}
