/**
 * The baseline of the benchmark: the session stack a user would write by hand with the usual
 * packages (express 5, express-session, connect-redis 8, ioredis) and no more. The service's
 * figures are divided by this app's, so they read as "what our auth costs over the plain stack".
 *
 * Started by bench/auth-overhead.ts with PORT, REDIS_URL, SESSION_SECRET, BENCH_USERNAME and
 * BENCH_PASSWORD; it knows that one user, whose password it hashes at start-up.
 */
import { randomUUID, randomBytes, timingSafeEqual } from 'node:crypto';
import { RedisStore } from 'connect-redis';
import express, { type Request, type Response } from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
// The service's own cost parameters, so a login costs both apps the same hashing work.
import {
  scrypt,
  SCRYPT_KEY_LENGTH,
  SCRYPT_OPTIONS,
} from '../src/users/scrypt.js';

interface ReferenceUser {
  id: string;
  username: string;
  roles: string[];
}

/** The session with the one field this app keeps in it. */
type ReferenceSession = Request['session'] & { user?: ReferenceUser };

const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function hashPassword(
  password: string,
): Promise<{ salt: Buffer; key: Buffer }> {
  const salt = randomBytes(16);
  return {
    salt,
    key: await scrypt(password, salt, SCRYPT_KEY_LENGTH, SCRYPT_OPTIONS),
  };
}

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.regenerate((err?: Error) => (err ? reject(err) : resolve())),
  );
}

async function main(): Promise<void> {
  const redis = new Redis(requiredEnv('REDIS_URL'));
  const user: ReferenceUser = {
    id: randomUUID(),
    username: requiredEnv('BENCH_USERNAME'),
    roles: ['user'],
  };
  const stored = await hashPassword(requiredEnv('BENCH_PASSWORD'));

  const app = express();
  app.use(
    session({
      store: new RedisStore({ client: redis }),
      secret: requiredEnv('SESSION_SECRET'),
      resave: false,
      saveUninitialized: false,
      // A maxAge makes every response re-send the cookie and touch the store (EXPIRE).
      cookie: { httpOnly: true, sameSite: 'lax', maxAge: FIFTEEN_MINUTES_MS },
    }),
  );

  app.post('/login', express.json(), async (req: Request, res: Response) => {
    const { username, password } = (req.body ?? {}) as Record<string, unknown>;
    if (typeof username !== 'string' || typeof password !== 'string') {
      res.status(400).json({ error: 'username and password required' });
      return;
    }
    const key = await scrypt(
      password,
      stored.salt,
      SCRYPT_KEY_LENGTH,
      SCRYPT_OPTIONS,
    );
    if (!timingSafeEqual(key, stored.key) || username !== user.username) {
      res.status(401).json({ error: 'invalid credentials' });
      return;
    }
    await regenerate(req);
    (req.session as ReferenceSession).user = user;
    res.json(user);
  });

  app.get('/me', (req: Request, res: Response) => {
    const current = (req.session as ReferenceSession).user;
    if (!current) {
      res.status(401).json({ error: 'not logged in' });
      return;
    }
    res.json(current);
  });

  const server = app.listen(Number(requiredEnv('PORT')), '127.0.0.1');
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    redis.disconnect();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
