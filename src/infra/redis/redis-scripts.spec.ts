import calculateSlot from 'cluster-key-slot';
import { randomBytes, randomUUID } from 'node:crypto';
import { redisKeys } from './redis-keys.js';
import { SCRIPTS, type ScriptFacts, type ScriptName } from './redis-scripts.js';

const loginId = () => randomBytes(16).toString('base64url');
const username = () => `user-${randomBytes(4).toString('hex')}`;

/** Facts to name each script's keys by; the type makes a new script need an entry here. */
const SAMPLES: { [N in ScriptName]: () => ScriptFacts<N> } = {
  createLogin: () => [randomUUID(), loginId()],
  markSeen: () => [randomUUID(), loginId()],
  nameOnLogin: () => [randomUUID(), loginId()],
  takeLogin: () => [randomUUID(), loginId()],
  nameRefresh: () => [randomUUID(), loginId()],
  rotateRefresh: () => [randomUUID(), loginId()],
  reserveAttempt: () => [redisKeys.loginFailuresOfAccount(username())],
  refundAttempt: () => [redisKeys.loginFailuresOfAddress('2001:db8::1')],
  recordFailure: () => [redisKeys.loginFailuresOfAccount(username())],
  rewritePersonalToken: () => [randomBytes(32).toString('base64url')],
};

function keysOf<N extends ScriptName>(name: N): string[] {
  const keys = SCRIPTS[name].keys as (...facts: ScriptFacts<N>) => string[];
  return keys(...SAMPLES[name]());
}

describe('Redis scripts', () => {
  it.each(Object.keys(SCRIPTS) as ScriptName[])(
    '%s touches keys of one hash slot, for any user',
    (name) => {
      for (let i = 0; i < 200; i++) {
        const keys = keysOf(name);
        expect(keys).toHaveLength(SCRIPTS[name].numberOfKeys);
        expect(new Set(keys.map((key) => calculateSlot(key))).size).toBe(1);
      }
    },
  );

  it("keeps different users' logins, and the throttle buckets, on different slots", () => {
    const slots = new Set<number>();
    for (let i = 0; i < 50; i++) {
      slots.add(calculateSlot(keysOf('createLogin')[0]));
      slots.add(calculateSlot(keysOf('reserveAttempt')[0]));
    }
    // No tag shared by every user or bucket: 100 random keys land on many slots.
    expect(slots.size).toBeGreaterThan(50);
  });

  it('names every key it declares: each script reads KEYS only up to its key count', () => {
    for (const [name, { lua, numberOfKeys }] of Object.entries(SCRIPTS)) {
      const used = [...lua.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
      expect({ name, max: Math.max(...used) }).toEqual({
        name,
        max: numberOfKeys,
      });
    }
  });
});
