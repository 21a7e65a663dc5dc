import { throttleDelayMs } from './login-throttle.js';

describe('throttleDelayMs', () => {
  const now = 1_000_000_000;

  it('lets the free failures through without a wait', () => {
    expect(throttleDelayMs(4, now, 5, now)).toBe(0);
  });

  it('doubles the wait with each failure past the free ones', () => {
    expect(throttleDelayMs(5, now, 5, now)).toBe(1000);
    expect(throttleDelayMs(6, now, 5, now)).toBe(2000);
    expect(throttleDelayMs(9, now, 5, now)).toBe(16000);
  });

  it('counts the wait from the latest failure', () => {
    expect(throttleDelayMs(6, now - 1500, 5, now)).toBe(500);
    expect(throttleDelayMs(6, now - 5000, 5, now)).toBe(0);
  });

  it('caps the wait at fifteen minutes', () => {
    expect(throttleDelayMs(60, now, 5, now)).toBe(15 * 60_000);
  });
});
