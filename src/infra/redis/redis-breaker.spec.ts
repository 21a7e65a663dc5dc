import { jest } from '@jest/globals';
import { RedisBreaker } from './redis-breaker.js';

/** A probe whose answers the test gives one by one. */
function controlledProbe() {
  const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> =
    [];
  return {
    calls: () => pending.length,
    probe: () =>
      new Promise<void>((resolve, reject) => pending.push({ resolve, reject })),
    answer: (i: number) => pending[i].resolve(),
    fail: (i: number) => pending[i].reject(new Error('Command timed out')),
  };
}

const RETRY_MS = 250;

describe('RedisBreaker', () => {
  let events: string[];
  let probe: ReturnType<typeof controlledProbe>;
  let breaker: RedisBreaker;

  beforeEach(() => {
    jest.useFakeTimers();
    events = [];
    probe = controlledProbe();
    breaker = new RedisBreaker(probe.probe, {
      retryMs: RETRY_MS,
      onOpen: (reason) => events.push(`open: ${reason}`),
      onClose: () => events.push('close'),
    });
  });

  afterEach(() => {
    breaker.stop();
    jest.useRealTimers();
  });

  it('is closed until tripped, and sends no probe meanwhile', () => {
    expect(breaker.open).toBe(false);
    expect(probe.calls()).toBe(0);
  });

  it('opens once however often it is tripped, with one probe at a time', async () => {
    breaker.trip('Command timed out');
    breaker.trip('Command timed out');
    breaker.trip('Stream is not writeable');
    await jest.advanceTimersByTimeAsync(RETRY_MS * 4);
    expect(breaker.open).toBe(true);
    expect(events).toEqual(['open: Command timed out']);
    expect(probe.calls()).toBe(1);
  });

  it('probes again after a failed probe, and closes when a probe answers', async () => {
    breaker.trip('Command timed out');
    probe.fail(0);
    await jest.advanceTimersByTimeAsync(0);
    expect(probe.calls()).toBe(1);
    await jest.advanceTimersByTimeAsync(RETRY_MS);
    expect(probe.calls()).toBe(2);
    expect(breaker.open).toBe(true);

    probe.answer(1);
    await jest.advanceTimersByTimeAsync(0);
    expect(breaker.open).toBe(false);
    expect(events).toEqual(['open: Command timed out', 'close']);
    await jest.advanceTimersByTimeAsync(RETRY_MS * 4);
    expect(probe.calls()).toBe(2);
  });

  it('closes at once when told Redis answers, and the probe still pending then reopens nothing', async () => {
    breaker.trip('Command timed out');
    breaker.close();
    expect(breaker.open).toBe(false);
    probe.fail(0);
    await jest.advanceTimersByTimeAsync(RETRY_MS * 4);
    expect(breaker.open).toBe(false);
    expect(probe.calls()).toBe(1);
    expect(events).toEqual(['open: Command timed out', 'close']);
  });

  it('keeps a single probe loop when tripped again while the last probe is still pending', async () => {
    breaker.trip('Command timed out');
    breaker.close();
    breaker.trip('Command timed out');
    expect(probe.calls()).toBe(1);
    probe.fail(0);
    await jest.advanceTimersByTimeAsync(RETRY_MS);
    expect(probe.calls()).toBe(2);
  });

  it('sends no probe once stopped, and ignores later trips', async () => {
    breaker.trip('Command timed out');
    probe.fail(0);
    breaker.stop();
    await jest.advanceTimersByTimeAsync(RETRY_MS * 4);
    expect(probe.calls()).toBe(1);
    breaker.close();
    breaker.trip('Command timed out');
    await jest.advanceTimersByTimeAsync(RETRY_MS * 4);
    expect(probe.calls()).toBe(1);
    expect(breaker.open).toBe(false);
  });
});
