import { eq } from 'drizzle-orm';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { Database } from '../../src/infra/db/database.js';
import { mailOutbox } from '../../src/infra/db/schema.js';
import { TEST_SESSION_SECRET } from '../helpers/cookies.js';
import {
  composedMail,
  mailAddress,
  mailService,
  metric,
  outboxRows,
  removeMailOfThisFile,
} from '../helpers/mail.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { instanceOf, startApp, type TestApp } from '../helpers/test-app.js';
import { waitUntil } from '../helpers/waiting.js';

/** Fast retries, so an outage of a second or two is over within a few tries. */
const FAST_RETRIES = { MAIL_RETRY_BASE_MS: '100' };

function mailEnv(sink: SmtpSink, env: Record<string, string> = {}) {
  return { MAIL_URL: sink.url(), ...FAST_RETRIES, ...env };
}

/** Each of `recipients` got exactly one mail, and the outbox holds none of theirs any more. */
async function deliveredOnce(
  sink: SmtpSink,
  recipients: string[],
  outbox: () => Promise<unknown[]> = () => outboxRows(recipients),
): Promise<void> {
  await waitUntil(
    async () => recipients.every((to) => sink.to(to).length > 0),
    () =>
      `a mail to each of ${recipients.length} recipients (${recipients.filter((to) => sink.to(to).length === 0).length} missing)`,
    20_000,
  );
  // Once no row is left, nothing more can be sent: the counts are final.
  await waitUntil(
    async () => (await outbox()).length === 0,
    'the outbox to be empty',
    20_000,
  );
  expect(
    recipients
      .filter((to) => sink.to(to).length !== 1)
      .map((to) => ({
        to,
        received: sink.to(to).length,
      })),
  ).toEqual([]);
}

// What a test leaves in the outbox (a mail given up on, one a failed test never let out) is
// not sent by the next test's instances.
afterEach(() => removeMailOfThisFile());

describe('an SMTP outage', () => {
  let sink: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    sink = await SmtpSink.start();
    t = await startApp(mailEnv(sink));
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('keeps /health at 200 naming the backlog, retries, and delivers every mail exactly once when the server is back', async () => {
    await sink.down();
    const recipients = Array.from({ length: 8 }, () => mailAddress());
    const retriedBefore = await metric(t, 'auth_mail_retried_total');
    for (const to of recipients)
      await mailService(t).enqueue(composedMail(t, to));
    await waitUntil(
      async () =>
        (await metric(t, 'auth_mail_retried_total')) - retriedBefore >= 16,
      'two failed tries of each mail',
    );
    let health: request.Response | undefined;
    await waitUntil(
      async () => {
        health = await request(t.server).get('/health');
        return (
          (health.body as { mail?: { queued: number } }).mail?.queued === 8
        );
      },
      () => `/health to name 8 queued mails (${JSON.stringify(health?.body)})`,
    );
    expect(health!.status).toBe(200);
    expect(health!.body).toEqual({
      status: 'ok',
      redis: 'up',
      database: 'up',
      mail: { queued: 8, oldestSeconds: expect.any(Number) },
    });
    expect(await metric(t, 'auth_mail_queue_depth')).toBe(8);
    expect(sink.received).toEqual([]);

    await sink.up();
    await deliveredOnce(sink, recipients);
    await waitUntil(
      async () =>
        (await request(t.server).get('/health')).body.mail === undefined,
      '/health to stop naming a backlog',
    );
    await request(t.server)
      .get('/health')
      .expect(200, { status: 'ok', redis: 'up', database: 'up' });
    expect(await metric(t, 'auth_mail_queue_depth')).toBe(0);
  });

  it('retries a mail the server refuses for now (4xx), and sends it once it accepts', async () => {
    sink.refuse(451, 'Try again later');
    const to = mailAddress();
    const before = sink.attempts;
    await mailService(t).enqueue(composedMail(t, to));
    await waitUntil(
      async () => sink.attempts - before >= 2,
      'two refused tries',
    );
    const [row] = await outboxRows([to]);
    expect(row.last_error).toContain('451');
    expect(row.failed_at).toBeNull();
    sink.accept();
    await deliveredOnce(sink, [to]);
  });
});

describe('two instances sharing the outbox', () => {
  let sink: SmtpSink;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    sink = await SmtpSink.start();
    a = await startApp(mailEnv(sink));
    b = await startApp(mailEnv(sink));
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await sink.close();
  });

  it('send each mail once, however many are queued through either', async () => {
    const sentBefore =
      (await metric(a, 'auth_mail_sent_total')) +
      (await metric(b, 'auth_mail_sent_total'));
    const recipients = Array.from({ length: 40 }, () => mailAddress());
    await Promise.all(
      recipients.map((to, i) => {
        const app = i % 2 === 0 ? a : b;
        return mailService(app).enqueue(composedMail(app, to));
      }),
    );
    await deliveredOnce(sink, recipients);
    const ids = recipients.map((to) => sink.to(to)[0].parsed.messageId);
    expect(new Set(ids).size).toBe(recipients.length);
    // Each mail was sent by exactly one of them.
    expect(
      (await metric(a, 'auth_mail_sent_total')) +
        (await metric(b, 'auth_mail_sent_total')) -
        sentBefore,
    ).toBe(recipients.length);
  });

  it('send each mail once when both find a backlog after an outage', async () => {
    await sink.down();
    const recipients = Array.from({ length: 20 }, () => mailAddress());
    for (const [i, to] of recipients.entries()) {
      const app = i % 2 === 0 ? a : b;
      await mailService(app).enqueue(composedMail(app, to));
    }
    await waitUntil(
      async () =>
        (await outboxRows(recipients)).every((row) => row.attempts >= 1),
      'a failed try of each mail',
    );
    await sink.up();
    await deliveredOnce(sink, recipients);
  });
});

describe('a restart', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(() => sink.close());

  it('loses nothing: mail queued while the server refused it is sent by the next instance', async () => {
    sink.refuse(451);
    const first = await startApp(mailEnv(sink));
    const recipients = Array.from({ length: 3 }, () => mailAddress());
    try {
      for (const to of recipients)
        await mailService(first).enqueue(composedMail(first, to));
      await waitUntil(async () => sink.attempts >= 3, 'a try of each mail');
    } finally {
      await first.close();
    }
    sink.accept();
    const next = await startApp(mailEnv(sink));
    try {
      await deliveredOnce(sink, recipients);
    } finally {
      await next.close();
    }
  });

  it('lets a send in flight at shutdown finish, and the mail is not sent again', async () => {
    sink.hold();
    const first = await startApp(mailEnv(sink));
    const to = mailAddress();
    try {
      await mailService(first).enqueue(composedMail(first, to));
      await waitUntil(async () => sink.holding === 1, 'the send in flight');
    } finally {
      const closing = first.close();
      sink.release();
      sink.accept();
      await closing;
    }
    expect(await outboxRows([to])).toEqual([]);
    const next = await startApp(mailEnv(sink));
    try {
      await deliveredOnce(sink, [to]);
    } finally {
      await next.close();
    }
  });

  it('gives back, at shutdown, a send that does not finish: the next instance sends it', async () => {
    sink.hold();
    const first = await startApp(mailEnv(sink));
    const to = mailAddress();
    let closedInMs: number;
    try {
      await mailService(first).enqueue(composedMail(first, to));
      await waitUntil(async () => sink.holding === 1, 'the send in flight');
    } finally {
      const closing = Date.now();
      await first.close();
      closedInMs = Date.now() - closing;
    }
    // The process's own shutdown limit is 9 s.
    expect(closedInMs).toBeLessThan(8_000);
    const [row] = await outboxRows([to]);
    expect(row).toMatchObject({ attempts: 0, failed_at: null });
    expect(row.next_attempt_at.getTime()).toBeLessThanOrEqual(Date.now());
    // The held message was never accepted; the server now accepts the next try.
    sink.accept();
    const next = await startApp(mailEnv(sink));
    try {
      await deliveredOnce(sink, [to]);
    } finally {
      await next.close();
    }
  });
});

describe('giving up', () => {
  let sink: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    sink = await SmtpSink.start();
    t = await startApp(
      mailEnv(sink, {
        MAIL_RETRY_FOR_SECONDS: '2',
        MAIL_RETRY_BASE_MS: '200',
      }),
    );
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('retries with backoff until MAIL_RETRY_FOR_SECONDS has passed, then marks the mail failed and keeps no payload', async () => {
    sink.refuse(451, 'Mailbox busy');
    const failedBefore = await metric(t, 'auth_mail_failed_total');
    const retriedBefore = await metric(t, 'auth_mail_retried_total');
    const to = mailAddress();
    await mailService(t).enqueue(composedMail(t, to));
    await waitUntil(
      async () =>
        (await metric(t, 'auth_mail_failed_total')) === failedBefore + 1,
      'the mail to be given up on',
      15_000,
    );
    const [row] = await outboxRows([to]);
    expect(row.failed_at).toBeInstanceOf(Date);
    expect(row.payload).toBeNull();
    expect(row.last_error).toContain('451');
    // 200, 400, 800 ms … : a few tries within 2 s, not one every poll.
    expect(row.attempts).toBeGreaterThanOrEqual(3);
    expect(row.attempts).toBeLessThanOrEqual(6);
    expect(row.failed_at!.getTime() - row.created_at.getTime()).toBeLessThan(
      2_000 + 2_500,
    );
    expect((await metric(t, 'auth_mail_retried_total')) - retriedBefore).toBe(
      row.attempts - 1,
    );
    expect(sink.attempts).toBe(row.attempts);
    // A failed mail is no backlog.
    await waitUntil(
      async () =>
        (await request(t.server).get('/health')).body.mail === undefined,
      '/health without a backlog',
    );
  });

  it('marks a mail the server refuses for good (5xx) failed after one try', async () => {
    sink.refuse(550, 'No such user here');
    const failedBefore = await metric(t, 'auth_mail_failed_total');
    const to = mailAddress();
    await mailService(t).enqueue(composedMail(t, to));
    await waitUntil(
      async () =>
        (await metric(t, 'auth_mail_failed_total')) === failedBefore + 1,
      'the mail to be given up on',
    );
    const [row] = await outboxRows([to]);
    expect(row).toMatchObject({ attempts: 1, payload: null });
    expect(row.last_error).toContain('550');
  });
});

describe('SESSION_SECRET rotation', () => {
  const OLD = TEST_SESSION_SECRET;
  const NEW = 'a-new-session-secret-after-the-rotation-0123';
  const OTHER = 'an-unrelated-session-secret-of-32-chars-or-more';
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(() => sink.close());

  async function queueWhileDown(secret: string, to: string): Promise<void> {
    await sink.down();
    const t = await startApp(mailEnv(sink, { SESSION_SECRET: secret }));
    try {
      await mailService(t).enqueue(composedMail(t, to));
      await waitUntil(
        async () => (await outboxRows([to]))[0]?.attempts >= 1,
        'a failed try',
      );
    } finally {
      await t.close();
      await sink.up();
    }
  }

  it('sends mail queued under a secret still listed', async () => {
    const to = mailAddress();
    await queueWhileDown(OLD, to);
    const t = await startApp(
      mailEnv(sink, { SESSION_SECRET: `${NEW},${OLD}` }),
    );
    try {
      await deliveredOnce(sink, [to]);
    } finally {
      await t.close();
    }
  });

  it('marks failed, never sends, mail that no listed secret can decrypt', async () => {
    const to = mailAddress();
    await queueWhileDown(OLD, to);
    const t = await startApp(mailEnv(sink, { SESSION_SECRET: OTHER }));
    try {
      await waitUntil(
        async () => (await outboxRows([to]))[0]?.failed_at instanceof Date,
        'the mail to be given up on',
      );
      const [row] = await outboxRows([to]);
      expect(row.payload).toBeNull();
      expect(row.last_error).toContain('cannot be decrypted');
      expect(sink.to(to)).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe('the embedded PGlite', () => {
  let dir: string;
  let sink: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mail-pglite-'));
    sink = await SmtpSink.start();
    t = await startApp(mailEnv(sink, { DATABASE_URL: '', DATABASE_DIR: dir }));
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('queues in a transaction and alone, retries, and sends each mail once', async () => {
    const database = instanceOf(t, Database);
    expect(database.kind).toBe('pglite');
    sink.refuse(451);
    const inTransaction = mailAddress('tx');
    const alone = mailAddress('alone');
    await database.db.transaction((tx) =>
      mailService(t).enqueueIn(tx, composedMail(t, inTransaction)),
    );
    await mailService(t).enqueue(composedMail(t, alone));
    await waitUntil(async () => sink.attempts >= 2, 'a refused try of each');
    sink.accept();
    const rowsOf = (to: string) =>
      database.db.select().from(mailOutbox).where(eq(mailOutbox.recipient, to));
    await deliveredOnce(sink, [inTransaction, alone], async () => [
      ...(await rowsOf(inTransaction)),
      ...(await rowsOf(alone)),
    ]);
  });
});
