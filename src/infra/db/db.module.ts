import { Global, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { Database } from './database.js';
import { openPglite } from './pglite.driver.js';
import { openPostgres } from './postgres.driver.js';

async function openDatabase(config: AppConfig): Promise<Database> {
  const { database } = config;
  const logger = new Logger('Database');
  const db = await Database.open(
    async (queryLoggers) =>
      database.kind === 'postgres'
        ? openPostgres(
            {
              url: database.url,
              poolMax: database.poolMax,
              onError: (err) =>
                logger.warn(`Idle database connection lost: ${err.message}`),
            },
            queryLoggers,
          )
        : openPglite(database.dir, queryLoggers),
    database.migrate,
  );
  await db.start();
  return db;
}

/** The accounts database (PostgreSQL or the embedded PGlite), closed at shutdown. */
@Global()
@Module({
  providers: [
    { provide: Database, inject: [AppConfig], useFactory: openDatabase },
  ],
  exports: [Database],
})
export class DbModule implements OnApplicationShutdown {
  constructor(private readonly database: Database) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}
