import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { simpleParser } from 'mailparser';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ConfigError } from '../../src/infra/config/app-config.js';
import { Database } from '../../src/infra/db/database.js';
import { toHttpError } from '../../src/infra/http/http-error.js';
import { MailComposer } from '../../src/mail/mail-composer.js';
import { freePort } from '../harness/free-port.mjs';
import {
  composedMail,
  mailAddress,
  mailService,
  metric,
  outboxRows,
} from '../helpers/mail.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { instanceOf, startApp, type TestApp } from '../helpers/test-app.js';
import { waitUntil } from '../helpers/waiting.js';

const SERVICE = 'Mail Test ID';
const FROM = 'accounts@example.test';
const PUBLIC_URL = 'https://auth.example.test';

/** Every line the app's Nest loggers write from now on, as text. */
function captureLogs(): { lines: () => string[]; stop: () => void } {
  const spies = (['log', 'warn', 'error', 'debug', 'verbose'] as const).map(
    (level) => jest.spyOn(Logger.prototype, level),
  );
  return {
    lines: () =>
      spies.flatMap((spy) =>
        spy.mock.calls.map((args) => args.map(String).join(' ')),
      ),
    stop: () => spies.forEach((spy) => spy.mockRestore()),
  };
}

describe('mail over SMTP', () => {
  let sink: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    sink = await SmtpSink.start();
    t = await startApp({
      MAIL_URL: sink.url(),
      MAIL_FROM: FROM,
      SERVICE_NAME: SERVICE,
      PUBLIC_URL,
    });
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('delivers a queued message from MAIL_FROM, with a text and an HTML part and the service name in the subject', async () => {
    const to = mailAddress();
    const id = await mailService(t).enqueue(composedMail(t, to, 'tok-1'));
    const mail = await sink.first(to);
    const { parsed } = mail;
    expect(parsed.subject).toBe(`${SERVICE}: Confirm your address`);
    expect(parsed.from?.value).toEqual([{ address: FROM, name: SERVICE }]);
    expect(mail.envelopeFrom).toBe(FROM);
    expect(mail.envelopeTo).toEqual([to]);
    expect(parsed.text).toContain(
      'Someone asked to use this address for an account.',
    );
    expect(parsed.text).toContain(`${PUBLIC_URL}/auth/confirm?token=tok-1`);
    expect(parsed.html).toContain(
      `href="${PUBLIC_URL}/auth/confirm?token=tok-1"`,
    );
    expect(parsed.html).toContain(
      'Someone asked to use this address for an account.',
    );
    expect(parsed.messageId).toBe(`<${id}@example.test>`);
    expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mail.login).toEqual({
      username: 'mailer',
      password: 'sink-password',
    });
  });

  it('loads nothing from elsewhere and links only to the service', async () => {
    const to = mailAddress();
    await mailService(t).enqueue(composedMail(t, to, 'tok-2'));
    const html = String((await sink.first(to)).parsed.html);
    expect(html).not.toMatch(/<img|<link|<script|<iframe|src=|url\(|@import/i);
    expect([...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1])).toEqual([
      `${PUBLIC_URL}/auth/confirm?token=tok-2`,
    ]);
  });

  it('escapes what a flow puts in a mail', async () => {
    const to = mailAddress();
    const message = instanceOf(t, MailComposer).compose(to, {
      subject: 'Hello <b>there</b>',
      paragraphs: ['A name: <script>alert(1)</script> & "quotes"'],
    });
    await mailService(t).enqueue(message);
    const { parsed } = await sink.first(to);
    expect(parsed.subject).toBe(`${SERVICE}: Hello <b>there</b>`);
    expect(parsed.text).toContain('<script>alert(1)</script> & "quotes"');
    expect(parsed.html).toContain(
      '&#60;script&#62;alert(1)&#60;/script&#62; &#38; &#34;quotes&#34;',
    );
    expect(parsed.html).not.toContain('<script>');
  });

  it('sends a mail queued in a transaction once it commits, and never one whose transaction rolled back', async () => {
    const committed = mailAddress('committed');
    const rolledBack = mailAddress('rolled-back');
    const { db } = instanceOf(t, Database);
    // Held, a sent mail stays in the outbox: what is there is all that was queued.
    sink.hold();
    try {
      await db.transaction(async (tx) => {
        await mailService(t).enqueueIn(tx, composedMail(t, committed));
      });
      await expect(
        db.transaction(async (tx) => {
          await mailService(t).enqueueIn(tx, composedMail(t, rolledBack));
          throw new Error('the flow failed');
        }),
      ).rejects.toThrow('the flow failed');
      await waitUntil(async () => sink.holding === 1, 'the committed mail');
      expect(
        (await outboxRows([committed, rolledBack])).map((r) => r.recipient),
      ).toEqual([committed]);
    } finally {
      sink.release();
      sink.accept();
    }
    expect((await sink.first(committed)).envelopeTo).toEqual([committed]);
    expect(sink.to(rolledBack)).toEqual([]);
  });

  it('keeps no working link, token or text of the message in the outbox, and deletes the row once sent', async () => {
    const to = mailAddress();
    const token = randomBytes(32).toString('base64url');
    sink.hold();
    try {
      await mailService(t).enqueue(composedMail(t, to, token));
      await waitUntil(async () => sink.holding === 1, 'the send in flight');
      const [row] = await outboxRows([to]);
      expect(row).toMatchObject({ recipient: to, attempts: 1 });
      const stored = JSON.stringify(row);
      for (const secret of [
        token,
        '/auth/confirm',
        'Confirm your address',
        'Someone asked',
      ])
        expect(stored).not.toContain(secret);
      const payload = Buffer.from(row.payload!, 'base64url');
      expect(payload.toString('latin1')).not.toContain(token);
      expect(payload.toString('utf8')).not.toContain(token);
    } finally {
      sink.release();
      sink.accept();
    }
    expect(String((await sink.first(to)).parsed.text)).toContain(token);
    await waitUntil(
      async () => (await outboxRows([to])).length === 0,
      'the sent mail to leave the outbox',
    );
  });

  it('refuses a recipient or subject with a line break before anything is queued: never a second recipient', async () => {
    const to = mailAddress();
    const bcc = mailAddress('bcc');
    const message = composedMail(t, to);
    const injected = `${to}\r\nBcc: ${bcc}`;
    await expect(
      mailService(t).enqueue({ ...message, to: injected }),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      details: { fields: ['to contains a line break'] },
    });
    await expect(
      mailService(t).enqueue({ ...message, subject: `Hi\r\nBcc: ${bcc}` }),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      details: { fields: ['subject contains a line break'] },
    });
    const { db } = instanceOf(t, Database);
    for (const to of [`${message.to}, ${bcc}`, `Someone <${bcc}>`, 'nobody'])
      await expect(
        db.transaction((tx) =>
          mailService(t).enqueueIn(tx, { ...message, to }),
        ),
      ).rejects.toMatchObject({ code: 'validation_failed' });

    // A mail queued after them arrives alone: nothing was queued for either address.
    const control = mailAddress('control');
    await mailService(t).enqueue(composedMail(t, control));
    await sink.first(control);
    expect(await outboxRows([injected, to, bcc])).toEqual([]);
    expect(
      sink.received.filter(
        (mail) => mail.envelopeTo.includes(bcc) || mail.raw.includes(bcc),
      ),
    ).toEqual([]);
  });

  it('is a 400, never a 500, when a refused message reaches the error mapping', async () => {
    const error = await mailService(t)
      .enqueue({ ...composedMail(t, mailAddress()), to: 'a@b.c\r\nBcc: x@y.z' })
      .catch((err: unknown) => err);
    expect(toHttpError(error)).toMatchObject({
      status: 400,
      code: 'validation_failed',
    });
  });

  it('counts what it sent', async () => {
    const before = await metric(t, 'auth_mail_sent_total');
    const to = mailAddress();
    await mailService(t).enqueue(composedMail(t, to));
    await sink.first(to);
    await waitUntil(
      async () => (await metric(t, 'auth_mail_sent_total')) === before + 1,
      'auth_mail_sent_total to count the mail',
    );
  });
});

describe('MAIL_URL with a password', () => {
  it('never logs the password: not at boot, not while the server cannot be reached', async () => {
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const logs = captureLogs();
    const closedPort = await freePort();
    const t = await startApp({
      MAIL_URL: `smtp://mailer:${password}@127.0.0.1:${closedPort}`,
      MAIL_RETRY_BASE_MS: '100',
    });
    try {
      const to = mailAddress();
      await mailService(t).enqueue(composedMail(t, to));
      await waitUntil(
        async () => (await metric(t, 'auth_mail_retried_total')) >= 2,
        'two failed tries',
      );
      const [row] = await outboxRows([to]);
      expect(row.last_error).toMatch(/ECONNREFUSED|ECONNECTION/);
      expect(row.last_error).not.toContain(password);
      const lines = logs.lines();
      expect(lines.join('\n')).toContain(
        `smtp://mailer:***@127.0.0.1:${closedPort}`,
      );
      expect(lines.join('\n')).toContain('Mail not delivered, will be retried');
      for (const line of lines) expect(line).not.toContain(password);
    } finally {
      logs.stop();
      await t.close();
    }
  });
});

describe('MAIL_URL=file:DIR', () => {
  let dir: string;
  let t: TestApp;
  let logs: ReturnType<typeof captureLogs>;
  beforeAll(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'mail-file-')), 'nested', 'mail');
    logs = captureLogs();
    t = await startApp({ MAIL_URL: `file:${dir}`, PUBLIC_URL });
  });
  afterAll(async () => {
    logs.stop();
    await t.close();
    await rm(join(dir, '..', '..'), { recursive: true, force: true });
  });

  it('writes each message as an .eml file, creating the directory, and logs its links', async () => {
    const to = mailAddress();
    const id = await mailService(t).enqueue(composedMail(t, to, 'tok-file'));
    const file = join(dir, `${id}.eml`);
    await waitUntil(async () => existsSync(file), `${file} to be written`);
    await waitUntil(
      async () => (await outboxRows([to])).length === 0,
      'the written mail to leave the outbox',
    );
    const parsed = await simpleParser(await readFile(file));
    expect(parsed.subject).toBe('Auth: Confirm your address');
    expect(parsed.text).toContain(`${PUBLIC_URL}/auth/confirm?token=tok-file`);
    expect(parsed.html).toContain(
      `href="${PUBLIC_URL}/auth/confirm?token=tok-file"`,
    );
    expect(parsed.to && 'value' in parsed.to && parsed.to.value).toEqual([
      { address: to, name: '' },
    ]);
    const line = logs.lines().find((l) => l.includes(file));
    expect(line).toContain(to);
    expect(line).toContain(`links: ${PUBLIC_URL}/auth/confirm?token=tok-file`);
  });
});

describe('MAIL_URL=console:', () => {
  it('writes each message, with its links, to the log', async () => {
    const logs = captureLogs();
    const t = await startApp({ MAIL_URL: 'console:' });
    try {
      const to = mailAddress();
      await mailService(t).enqueue(composedMail(t, to, 'tok-console'));
      const link = `${t.config.mail.enabled && t.config.mail.linkBase}/auth/confirm?token=tok-console`;
      await waitUntil(
        async () =>
          logs
            .lines()
            .some(
              (l) =>
                l.includes(`Mail to ${to}`) &&
                l.includes(`links: ${link}`) &&
                l.includes('Someone asked to use this address'),
            ),
        'the mail in the log',
      );
    } finally {
      logs.stop();
      await t.close();
    }
  });
});

describe('MAIL=off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ MAIL: 'off', MAIL_URL: '' });
  });
  afterAll(() => t.close());

  it('turns mail off: nothing can be queued, and /health says nothing of mail', async () => {
    expect(t.config.mail).toEqual({ enabled: false });
    expect(mailService(t).enabled).toBe(false);
    await expect(
      mailService(t).enqueue({
        to: mailAddress(),
        subject: 'Auth: hello',
        text: 'hello',
        html: '<p>hello</p>',
      }),
    ).rejects.toThrow(/MAIL=off/);
    await request(t.server)
      .get('/health')
      .expect(200, { status: 'ok', redis: 'up', database: 'up' });
  });
});

describe('mail configuration errors name the variable', () => {
  const production = {
    NODE_ENV: 'production',
    MAIL_URL: 'smtp://mailer:pw@smtp.example.test:587',
    MAIL_FROM: FROM,
    PUBLIC_URL,
  };

  async function refusal(env: Record<string, string>): Promise<ConfigError> {
    const err = await startApp(env).then(
      async (t) => {
        await t.close();
        throw new Error(`booted with ${JSON.stringify(env)}`);
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }

  it.each([
    [
      'a MAIL_URL of another scheme',
      { MAIL_URL: 'http://mail.example.test' },
      'MAIL_URL',
    ],
    [
      'a MAIL_URL that is not a URL',
      { MAIL_URL: 'mail server please' },
      'MAIL_URL',
    ],
    [
      'a MAIL_URL with MAIL=off',
      { MAIL: 'off', MAIL_URL: 'console:' },
      'MAIL_URL',
    ],
    [
      'production without PUBLIC_URL',
      { ...production, PUBLIC_URL: '' },
      'PUBLIC_URL',
    ],
    [
      'production with a file: MAIL_URL',
      { ...production, MAIL_URL: 'file:.data/mail' },
      'MAIL_URL',
    ],
    [
      'production with a console: MAIL_URL',
      { ...production, MAIL_URL: 'console:' },
      'MAIL_URL',
    ],
    [
      'production without MAIL_URL',
      { ...production, MAIL_URL: '' },
      'MAIL_URL',
    ],
    [
      'production without MAIL_FROM',
      { ...production, MAIL_FROM: '' },
      'MAIL_FROM',
    ],
    [
      'a MAIL_FROM with a line break',
      { MAIL_FROM: `${FROM}\r\nBcc: x@example.test` },
      'MAIL_FROM',
    ],
  ])('refuses to boot with %s', async (_, env, variable) => {
    const error = await refusal(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
  });

  it('never quotes the password of a refused MAIL_URL', async () => {
    const error = await refusal({
      MAIL_URL: 'smtp://mailer:hunter2-in-the-url@mail.example.test/x',
    });
    expect(error.variable).toBe('MAIL_URL');
    expect(error.message).not.toContain('hunter2');
  });

  it('boots in production with MAIL=off and no other mail setting', async () => {
    const t = await startApp({
      NODE_ENV: 'production',
      MAIL: 'off',
      MAIL_URL: '',
      PUBLIC_URL: '',
    });
    try {
      expect(t.config.production).toBe(true);
      expect(mailService(t).enabled).toBe(false);
    } finally {
      await t.close();
    }
  });
});
