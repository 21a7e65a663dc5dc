import { defineScript, replyNumber } from '../infra/redis/redis-scripts.js';

/**
 * Takes one allowance in two fixed windows of one bucket (a minute's counter and an hour's,
 * under one hash tag), or none: both counts are below their limits, and both grow by one, or
 * neither changes. A counter's TTL is set when it is created, so each window is fixed.
 * Replies 1 when taken, 0 when a window is full.
 */
export const takeResetAllowance = defineScript({
  name: 'takeResetAllowance',
  numberOfKeys: 2,
  keys: (minuteKey: string, hourKey: string) => [minuteKey, hourKey],
  argv: (
    perMinute: number,
    perHour: number,
    minuteMs: number,
    hourMs: number,
  ) => [perMinute, perHour, minuteMs, hourMs],
  lua: `
local minuteKey, hourKey = KEYS[1], KEYS[2]
local perMinute, perHour, minuteMs, hourMs = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
if tonumber(redis.call('GET', minuteKey) or '0') >= perMinute then return 0 end
if tonumber(redis.call('GET', hourKey) or '0') >= perHour then return 0 end
if redis.call('INCR', minuteKey) == 1 then redis.call('PEXPIRE', minuteKey, minuteMs) end
if redis.call('INCR', hourKey) == 1 then redis.call('PEXPIRE', hourKey, hourMs) end
return 1`,
  reply: (raw) => replyNumber(raw) === 1,
});
