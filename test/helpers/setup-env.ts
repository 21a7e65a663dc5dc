// Tests run against real Redis on a database of their own (15), which specs may inspect.
process.env.REDIS_URL ??= 'redis://127.0.0.1:6379/15';
process.env.LOG_LEVEL ??= 'silent';
