import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { freePort } from '../helpers/redis-process.js';
import { PASSWORD, uniqueName } from '../helpers/test-app.js';

/** The production entry point, compiled and run as its own process, as `npm start` does. */
const MAIN = 'dist/main.js';

function run(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  let output = '';
  const child = spawn(process.execPath, [MAIN], {
    // The run's database, never a PGlite directory in the working tree.
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: process.env.DATABASE_URL ?? '',
      ...env,
    },
    stdio: 'pipe',
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', resolve),
  );
  return { child, output: () => output, exited };
}

async function waitForHealth(
  base: string,
  exited: Promise<number | null>,
): Promise<void> {
  let done = false;
  void exited.then(() => (done = true));
  for (let i = 0; i < 100 && !done; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the service did not become healthy');
}

/** Everything the server sends on `socket` until it closes the connection. */
function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.once('close', () => resolve(received));
    socket.once('error', reject);
  });
}

beforeAll(() => {
  execFileSync(
    process.execPath,
    ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'],
    { stdio: 'pipe' },
  );
}, 120_000);

describe('the production process', () => {
  it('never writes passwords, tokens, session cookies or Authorization headers to its logs', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const secret = randomBytes(24).toString('base64url');
    const app = run({
      PORT: String(port),
      REDIS_URL: process.env.REDIS_URL!,
      SESSION_SECRET: `log-test-secret-${secret}`,
      LOG_LEVEL: 'trace',
    });
    try {
      await waitForHealth(base, app.exited);
      const username = uniqueName();
      const password = `${PASSWORD} ${secret}`;
      const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
      await fetch(`${base}/auth/register`, {
        method: 'POST',
        headers: form,
        body: new URLSearchParams({ username, password }),
      });
      const login = await fetch(`${base}/auth/token`, {
        method: 'POST',
        headers: form,
        body: new URLSearchParams({ username, password }),
      });
      const { access_token: token } = (await login.json()) as {
        access_token: string;
      };
      const cookie = login.headers.getSetCookie()[0].split(';')[0];
      const sessionId = decodeURIComponent(cookie.split('=')[1]);
      await fetch(`${base}/admin/me`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      await fetch(`${base}/admin/me?access_token=${token}`);
      await fetch(`${base}/admin/me`, { headers: { Cookie: cookie } });
      await fetch(`${base}/auth/token`, {
        method: 'POST',
        headers: form,
        body: new URLSearchParams({ username, password: `wrong ${secret}` }),
      });
      await fetch(`${base}/auth/logout`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
      });
      await new Promise((r) => setTimeout(r, 300));

      const logs = app.output();
      expect(logs).toContain('/admin/me');
      for (const leaked of [secret, token, sessionId, cookie])
        expect(logs).not.toContain(leaked);
    } finally {
      app.child.kill('SIGTERM');
      await app.exited;
    }
  });

  it('on SIGTERM finishes the request in flight, refuses new connections, and exits 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const app = run({
      PORT: String(port),
      REDIS_URL: process.env.REDIS_URL!,
      SESSION_SECRET: `shutdown-test-secret-${randomBytes(16).toString('hex')}`,
    });
    try {
      await waitForHealth(base, app.exited);
      const username = uniqueName();
      const registered = await fetch(`${base}/auth/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password: PASSWORD }),
      });
      expect(registered.status).toBe(201);

      // A login whose body is still arriving when SIGTERM comes: the request is in flight.
      const body = JSON.stringify({
        grant_type: 'password',
        username,
        password: PASSWORD,
      });
      const socket = createConnection({ host: '127.0.0.1', port });
      const answer = readAll(socket);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        `POST /auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
      );
      await new Promise((r) => setTimeout(r, 200));
      app.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));

      // No new connections once shutdown has begun.
      await expect(fetch(`${base}/health`)).rejects.toThrow();

      socket.write(body.slice(10));
      const response = await answer;
      expect(response).toMatch(/^HTTP\/1\.1 200 /);
      expect(response).toContain('"access_token"');
      expect(await app.exited).toBe(0);
      expect(app.output()).toContain('SIGTERM received');
    } finally {
      app.child.kill('SIGKILL');
    }
  });

  it('refuses to start on a bad setting, naming the variable', async () => {
    const app = run({
      SESSION_IDLE_SECONDS: 'soon',
      REDIS_URL: process.env.REDIS_URL!,
    });
    expect(await app.exited).not.toBe(0);
    expect(app.output()).toContain('SESSION_IDLE_SECONDS');
  });

  it('refuses to start in production without SESSION_SECRET', async () => {
    const app = run({
      NODE_ENV: 'production',
      REDIS_URL: process.env.REDIS_URL!,
    });
    expect(await app.exited).not.toBe(0);
    expect(app.output()).toContain('SESSION_SECRET');
  });

  it('starts on the embedded store with a warning when REDIS_URL is unset', async () => {
    const port = await freePort();
    const app = run({ PORT: String(port), LOG_LEVEL: 'info' });
    try {
      await waitForHealth(`http://127.0.0.1:${port}`, app.exited);
      expect(app.output()).toMatch(
        /embedded in-process store.*lost on restart/i,
      );
    } finally {
      app.child.kill('SIGTERM');
      await app.exited;
    }
  });
});
