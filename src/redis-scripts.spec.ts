import calculateSlot from 'cluster-key-slot';
import { randomBytes, randomUUID } from 'node:crypto';
import * as loginScripts from './credentials/login.scripts.js';
import * as personalTokenScripts from './credentials/personal-token.scripts.js';
import { redisKeys } from './infra/redis/redis-keys.js';
import {
  registeredScripts,
  type RedisScript,
} from './infra/redis/redis-scripts.js';
import * as throttleScripts from './login/login-throttle.scripts.js';
import * as resetScripts from './login/password-reset.scripts.js';

const loginId = () => randomBytes(16).toString('base64url');
const username = () => `user-${randomBytes(4).toString('hex')}`;

/** Facts to name each script's keys by; every registered script needs an entry. */
const SAMPLES: Record<string, () => unknown[]> = {
  [loginScripts.createLogin.name]: () => [randomUUID(), loginId()],
  [loginScripts.raiseLoginEpoch.name]: () => [randomUUID()],
  [loginScripts.setLoginField.name]: () => [randomUUID(), loginId()],
  [loginScripts.takeLogin.name]: () => [randomUUID(), loginId()],
  [loginScripts.rotateRefresh.name]: () => [randomUUID(), loginId()],
  [throttleScripts.reserveAttempt.name]: () => [
    redisKeys.loginFailuresOfAccount(username()),
  ],
  [throttleScripts.refundAttempt.name]: () => [
    redisKeys.loginFailuresOfAddress('2001:db8::1'),
  ],
  [throttleScripts.recordFailure.name]: () => [
    redisKeys.loginFailuresOfAccount(username()),
  ],
  [resetScripts.takeResetAllowance.name]: () => {
    const login = `${username()}@example.test`;
    return [
      redisKeys.passwordResetRequestsOfLogin(login, 'minute'),
      redisKeys.passwordResetRequestsOfLogin(login, 'hour'),
    ];
  },
  [personalTokenScripts.rewritePersonalToken.name]: () => [
    randomBytes(32).toString('base64url'),
  ],
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- scripts of every shape
type AnyScript = RedisScript<any[], any[], unknown>;
const scripts = registeredScripts();
const keysOf = (script: AnyScript) => script.keys(...SAMPLES[script.name]());

describe('Redis scripts', () => {
  it('has a sample for every registered script, and registers each store’s scripts', () => {
    expect(scripts.map((s) => s.name).sort()).toEqual(
      Object.keys(SAMPLES).sort(),
    );
  });

  it.each(scripts.map((s) => [s.name, s] as const))(
    '%s touches keys of one hash slot, for any user',
    (_name, script) => {
      for (let i = 0; i < 200; i++) {
        const keys = keysOf(script);
        expect(keys).toHaveLength(script.numberOfKeys);
        expect(new Set(keys.map((key) => calculateSlot(key))).size).toBe(1);
      }
    },
  );

  it("keeps different users' logins, and the throttle buckets, on different slots", () => {
    const slots = new Set<number>();
    for (let i = 0; i < 50; i++) {
      slots.add(calculateSlot(keysOf(loginScripts.createLogin)[0]));
      slots.add(calculateSlot(keysOf(throttleScripts.reserveAttempt)[0]));
    }
    // No tag shared by every user or bucket: 100 random keys land on many slots.
    expect(slots.size).toBeGreaterThan(50);
  });

  it.each(scripts.map((s) => [s.name, s] as const))(
    '%s reads KEYS only up to its key count, and names its arguments first',
    (_name, script) => {
      const used = [...script.lua.matchAll(/KEYS\[(\d+)\]/g)].map((m) =>
        Number(m[1]),
      );
      expect(Math.max(...used)).toBe(script.numberOfKeys);
      // ARGV is read only where the script gives its arguments names, at the top.
      const body = script.lua
        .split('\n')
        .filter((line) => !/^local [\w, ]+ = /.test(line));
      expect(body.filter((line) => /ARGV\[/.test(line))).toEqual([]);
    },
  );
});
