import { loadConfig } from '../infra/config/app-config.js';
import { MailTransport } from './mail-transport.js';

const PASSWORD = 'p@ss/w:rd-secret';
const transport = new MailTransport(
  loadConfig({
    MAIL_URL: `smtp://mailer:${encodeURIComponent(PASSWORD)}@127.0.0.1:2525`,
  }),
);

const smtpError = (code: string, responseCode?: number) =>
  Object.assign(new Error(`failed (${responseCode ?? 'no answer'})`), {
    code,
    responseCode,
  });

describe('MailTransport', () => {
  afterAll(() => transport.close(true));

  it.each([
    ['a recipient refused for good', smtpError('EENVELOPE', 550)],
    ['a message refused for good', smtpError('EMESSAGE', 554)],
  ])('gives up on %s', (_, err) => {
    expect(transport.isPermanent(err)).toBe(true);
  });

  it.each([
    ['a 4xx answer', smtpError('EENVELOPE', 451)],
    ['a 503 (commands out of sequence)', smtpError('EMESSAGE', 503)],
    ['a refused login (a configuration to fix)', smtpError('EAUTH', 535)],
    ['a refused connection', smtpError('ESOCKET')],
    ['a timeout', smtpError('ETIMEDOUT')],
    ['a TLS failure', smtpError('ETLS')],
    ['an aborted send', smtpError('EABORT')],
    ['something else', new Error('odd')],
  ])('retries after %s', (_, err) => {
    expect(transport.isPermanent(err)).toBe(false);
  });

  it('keeps the password out of what it reports, in any spelling', () => {
    for (const spelling of [
      PASSWORD,
      encodeURIComponent(PASSWORD),
      Buffer.from(PASSWORD).toString('base64'),
    ]) {
      const reason = transport.reason(
        Object.assign(new Error(`AUTH PLAIN ${spelling} refused`), {
          code: 'EAUTH',
        }),
      );
      expect(reason).toBe('EAUTH: AUTH PLAIN *** refused');
    }
  });

  it('describes where mail goes without the password', () => {
    expect(transport.describe()).toBe(
      'smtp://mailer:***@127.0.0.1:2525 (STARTTLS when offered), from "Auth" <no-reply@localhost>',
    );
  });
});
