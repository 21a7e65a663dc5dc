// REDIS_URL is the caller's, or the throwaway server's that test/global-setup.ts started.
// Every request of the suite comes from 127.0.0.1, so the per-address login throttle is
// raised here; the throttle spec sets its own limits.
if (!process.env.REDIS_URL)
  throw new Error('REDIS_URL is not set: run the e2e tests with npm test');
process.env.LOG_LEVEL ??= 'silent';
process.env.LOGIN_FREE_FAILURES_PER_ADDRESS ??= '100000';
// Mail a test does not catch goes to the (silent) log, never to .eml files in the working tree.
process.env.MAIL_URL ??= 'console:';
