import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { createApp } from './app.setup.js';
import { ConnectionDrain } from './infra/http/connection-drain.js';
import { ConfigError, loadConfig } from './infra/config/app-config.js';

/** SIGTERM to exit: in-flight requests get this long to finish before the process gives up. */
const SHUTDOWN_GRACE_MS = 9_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const app = await createApp(config);
  stopOnSignals(app);
  await app.listen(config.port);
}

/**
 * Graceful shutdown on SIGTERM or SIGINT: stop accepting connections, let in-flight requests
 * finish, close Redis, exit 0. Idle keep-alive connections are closed at once and busy ones
 * right after their answer (ConnectionDrain), so the exit follows the last answer. A request
 * still running after the grace period is cut off and the exit code is 1.
 */
function stopOnSignals(app: INestApplication): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // Before the message, so an answer sent after it is seen carries `Connection: close`.
    app.get(ConnectionDrain).begin();
    process.stderr.write(`${signal} received: shutting down\n`);
    setTimeout(() => {
      process.stderr.write(
        `Shutdown did not finish within ${SHUTDOWN_GRACE_MS / 1000} s; exiting\n`,
      );
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(
          `Shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`,
        );
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `Failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
