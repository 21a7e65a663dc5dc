import { removeWhatThisFileWrote } from './cleanup.js';
import { inspectRedis } from './redis-inspection.js';

// Registered for every e2e file (jest setupFilesAfterEnv): each one leaves the test database
// as it found it.
afterAll(async () => {
  const redis = inspectRedis();
  try {
    await removeWhatThisFileWrote(redis);
  } finally {
    await redis.quit();
  }
});
