import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../harness/free-port.mjs';
import { PASSWORD, uniqueName } from '../helpers/logins.js';
import { sleep, waitUntil } from '../helpers/waiting.js';

/** The production entry point, compiled and run as its own process, as `npm start` does. */
const MAIN = 'dist/main.js';

function run(
  env: Record<string, string>,
  nodeArgs: string[] = [],
): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  let output = '';
  const child = spawn(process.execPath, [...nodeArgs, MAIN], {
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

/**
 * Resolves once `text` has appeared in the process's output; fails, quoting the end of the
 * output, when it has not within `timeoutMs` or the process ends without writing it.
 */
function outputContains(
  app: ReturnType<typeof run>,
  text: string | RegExp,
  timeoutMs = 10_000,
): Promise<void> {
  const found = () =>
    typeof text === 'string'
      ? app.output().includes(text)
      : text.test(app.output());
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      app.child.stdout!.off('data', check);
      app.child.stderr!.off('data', check);
      app.child.off('close', closed);
    };
    const fail = (why: string) => {
      stop();
      reject(
        new Error(
          `${String(text)} ${why}; the output ends:\n${app.output().slice(-2000)}`,
        ),
      );
    };
    const check = () => {
      if (!found()) return;
      stop();
      resolve();
    };
    const closed = () => {
      check();
      fail('never appeared in the output of the process, which has ended');
    };
    const timer = setTimeout(
      () => fail(`did not appear in the output within ${timeoutMs} ms`),
      timeoutMs,
    );
    app.child.stdout!.on('data', check);
    app.child.stderr!.on('data', check);
    app.child.once('close', closed);
    check();
  });
}

/** Whether `port` accepts a TCP connection now (closed again at once). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface Answer {
  status: number;
  connection: string | undefined;
  setCookie: string[];
  body: string;
  /** performance.now() when the whole answer had arrived. */
  at: number;
}

/** Reads a whole answer from the server. */
function answerOf(req: http.ClientRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.once('error', reject);
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          setCookie: res.headers['set-cookie'] ?? [],
          body,
          at: performance.now(),
        }),
      );
    });
  });
}

/** Polls /health until it answers 200; fails at once if the process exits first. */
async function waitForHealth(
  base: string,
  exited: Promise<number | null>,
): Promise<void> {
  let exit: { code: number | null } | undefined;
  void exited.then((code) => (exit = { code }));
  await waitUntil(
    async () => {
      if (exit)
        throw new Error(
          `the service exited (code ${exit.code}) before it became healthy`,
        );
      try {
        return (await fetch(`${base}/health`)).ok;
      } catch {
        return false; // not listening yet
      }
    },
    'the service to become healthy',
    10_000,
    100,
  );
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
      // The last request's log line comes after its answer; every earlier line is out by then.
      await outputContains(
        app,
        /"path":"\/auth\/logout".*"msg":"request completed"/,
      );

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
      // Kept as a fixed allowance: nothing outside the server shows the moment it has read
      // the partial request, and Expect: 100-continue (as below) would put an interim answer
      // in front of the one this test reads.
      await sleep(200);
      app.child.kill('SIGTERM');
      await outputContains(app, 'SIGTERM received');
      // The listener closes a few steps after that line, once Nest's shutdown reaches it.
      await waitUntil(
        async () => !(await accepts(port)),
        'the server to stop accepting connections after SIGTERM',
        5_000,
        20,
      );

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

  it('on SIGTERM answers the logins in flight with Connection: close, drops idle keep-alive connections, and exits 0 right after the last answer', async () => {
    const port = await freePort();
    const app = run({
      PORT: String(port),
      REDIS_URL: process.env.REDIS_URL!,
      SESSION_SECRET: `shutdown-test-secret-${randomBytes(16).toString('hex')}`,
    });
    const agent = new http.Agent({ keepAlive: true });
    const idleAgent = new http.Agent({ keepAlive: true });
    try {
      await waitForHealth(`http://127.0.0.1:${port}`, app.exited);
      const username = uniqueName();
      const body = JSON.stringify({
        grant_type: 'password',
        username,
        password: PASSWORD,
      });
      const post = (
        path: string,
        json: string,
        headers: Record<string, string> = {},
      ) =>
        http.request({
          agent,
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          headers: {
            ...headers,
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(json),
            // The server's "100 Continue" shows it has the request: it is in flight.
            Expect: '100-continue',
          },
        });
      const registration = post(
        '/auth/register',
        JSON.stringify({ username, password: PASSWORD }),
      );
      registration.end(JSON.stringify({ username, password: PASSWORD }));
      expect((await answerOf(registration)).status).toBe(201);
      const first = post('/auth/token', body);
      first.end(body);
      const cookie = (await answerOf(first)).setCookie[0].split(';')[0];
      // Keep-alive connections left idle in their agent's pool; the server must close them.
      const idle = await Promise.all(
        Array.from({ length: 3 }, () =>
          answerOf(
            http.get({
              agent: idleAgent,
              host: '127.0.0.1',
              port,
              path: '/health',
            }),
          ),
        ),
      );
      expect(idle.map((a) => a.connection)).toEqual(
        Array(3).fill('keep-alive'),
      );

      // Ten logins in flight: three check the password, and seven come from the logged-in
      // session (a further token, no hashing), so that the hashes, one at a time on this
      // machine, do not come near the 9 s shutdown limit when the machine is busy.
      const logins = Array.from({ length: 10 }, (_, i) =>
        post('/auth/token', body, i < 3 ? {} : { Cookie: cookie }),
      );
      const answers = logins.map(answerOf);
      await Promise.all(logins.map((req) => once(req, 'continue')));
      app.child.kill('SIGTERM');
      await outputContains(app, 'SIGTERM received');
      for (const req of logins) req.end(body);

      const answered = await Promise.all(answers);
      const lastAnswer = Math.max(...answered.map((a) => a.at));
      const code = await app.exited;
      const exitDelay = performance.now() - lastAnswer;
      for (const a of answered)
        expect({
          status: a.status,
          connection: a.connection,
          token: a.body.includes('"access_token"'),
        }).toEqual({ status: 200, connection: 'close', token: true });
      expect(code).toBe(0);
      // The exit follows the last answer instead of waiting out keep-alive timeouts (5 s).
      expect(exitDelay).toBeLessThan(1_000);
    } finally {
      agent.destroy();
      idleAgent.destroy();
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

  it('refuses to start in production without a Redis setting, naming REDIS_URL', async () => {
    const app = run({
      NODE_ENV: 'production',
      SESSION_SECRET: `no-redis-test-secret-${randomBytes(16).toString('hex')}`,
    });
    expect(await app.exited).not.toBe(0);
    expect(app.output()).toContain('REDIS_URL');
  });

  it('refuses to start on the embedded store when ioredis-mock is not installed, naming REDIS_URL', async () => {
    // A production install (npm ci --omit=dev) has no ioredis-mock; a resolve hook hides it here.
    const dir = await mkdtemp(join(tmpdir(), 'no-ioredis-mock-'));
    try {
      await writeFile(
        join(dir, 'hook.mjs'),
        `export async function resolve(specifier, context, next) {
          if (specifier !== 'ioredis-mock') return next(specifier, context);
          throw Object.assign(new Error("Cannot find package 'ioredis-mock'"), { code: 'ERR_MODULE_NOT_FOUND' });
        }`,
      );
      await writeFile(
        join(dir, 'register.mjs'),
        `import { register } from 'node:module';
        register(${JSON.stringify(`file://${join(dir, 'hook.mjs')}`)});`,
      );
      const app = run({ PORT: String(await freePort()) }, [
        '--import',
        join(dir, 'register.mjs'),
      ]);
      expect(await app.exited).not.toBe(0);
      expect(app.output()).toMatch(
        /Failed to start: REDIS_URL is not set.*ioredis-mock.*not installed/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts on the embedded store with a warning when REDIS_URL is unset', async () => {
    const port = await freePort();
    const app = run({ PORT: String(port), LOG_LEVEL: 'info' });
    try {
      await waitForHealth(`http://127.0.0.1:${port}`, app.exited);
      // Said once, not once per module that knows about it.
      expect(
        app.output().match(/embedded in-process store.*lost on restart/gi),
      ).toHaveLength(1);
    } finally {
      app.child.kill('SIGTERM');
      await app.exited;
    }
  });
});
