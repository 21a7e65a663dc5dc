// Tests run against real Redis on a database of their own (15), which specs may inspect.
// Every request of the suite comes from 127.0.0.1, so the per-address login throttle is
// raised here; the throttle spec sets its own limits.
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379/15';
process.env.LOG_LEVEL ??= 'silent';
process.env.LOGIN_FREE_FAILURES_PER_ADDRESS ??= '100000';
