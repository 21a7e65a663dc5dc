import pg from 'pg';

/** A `users` row as PostgreSQL holds it (snake_case columns). */
export interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  roles: string[];
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
  password_changed_at: Date;
}

/**
 * A connection of its own to the test database (or `url`), for checking what the app wrote,
 * independently of the app's repository.
 */
export class DatabaseInspector {
  private readonly client: pg.Client;
  private connected?: Promise<unknown>;

  constructor(url = process.env.DATABASE_URL!) {
    this.client = new pg.Client({ connectionString: url });
  }

  async query<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[] = [],
  ): Promise<R[]> {
    this.connected ??= this.client.connect();
    await this.connected;
    return (await this.client.query<R>(text, values)).rows;
  }

  /** The account of `username` (any case), or null. */
  async userByName(username: string): Promise<UserRow | null> {
    const rows = await this.query<UserRow>(
      'select * from users where lower(username) = lower($1)',
      [username],
    );
    return rows[0] ?? null;
  }

  async userById(id: string): Promise<UserRow | null> {
    const rows = await this.query<UserRow>(
      'select * from users where id = $1',
      [id],
    );
    return rows[0] ?? null;
  }

  async close(): Promise<void> {
    if (this.connected) await this.client.end();
  }
}
