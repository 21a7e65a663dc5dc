import { createServer } from 'node:net';

/**
 * A localhost port nothing listens on right now: the kernel picks one for a throwaway server,
 * which then lets go. Shared by the test harness, the tests and the benchmark.
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}
