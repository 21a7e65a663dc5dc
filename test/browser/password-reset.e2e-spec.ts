import { PASSWORD, registerAndLogin } from '../helpers/logins.js';
import { giveVerifiedEmail, resetLinkIn } from '../helpers/mail.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import {
  cspViolations,
  logInOnLoginPage,
  screenshot,
  screenshotOf,
  useBrowserTest,
} from './chromium.js';

const PUBLIC_URL = 'https://auth.example.test';
const NEW_PASSWORD = 'saffron-glacier-orbit-58';

describe('password reset in a browser', () => {
  let sink: SmtpSink | undefined;
  const t = useBrowserTest(async () => {
    sink = await SmtpSink.start();
    return { MAIL_URL: sink.url(), PUBLIC_URL };
  });
  afterAll(async () => {
    await sink?.close();
  });

  it('asks for a link on the forgot page, follows it from the mail, sets a new password and logs in with it', async () => {
    const user = await registerAndLogin(t.server);
    const email = await giveVerifiedEmail(user.userId);

    await t.page.goto(`${t.url}/auth/login`);
    await Promise.all([
      t.page.waitForURL(`${t.url}/auth/password/forgot`),
      t.page.getByRole('link', { name: 'Forgot your password?' }).click(),
    ]);
    await t.page.getByLabel('Username or email').fill(email);
    await Promise.all([
      t.page.waitForURL(`${t.url}/auth/password/forgot?sent=1`),
      t.page.getByRole('button', { name: 'Send the link' }).click(),
    ]);
    await t.page.getByText('If an account matches, we sent a link').waitFor();

    const mail = await sink!.first(email);
    const { url } = resetLinkIn(mail.parsed.text);
    expect(url.startsWith(`${PUBLIC_URL}/`)).toBe(true);
    // The mail's link, opened on this test's own address for the public origin.
    await t.page.goto(`${t.url}${url.slice(PUBLIC_URL.length)}`);
    await t.page
      .getByRole('heading', { name: 'Choose a new password' })
      .waitFor();
    await t.page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await screenshot(t.page, 'password-reset.png');
    await Promise.all([
      t.page.waitForURL(`${t.url}/auth/login?reset=1`),
      t.page.getByRole('button', { name: 'Set the new password' }).click(),
    ]);
    await t.page.getByText('Your password was reset').waitFor();
    expect(await t.page.getByText('Logged in as').count()).toBe(0);

    await logInOnLoginPage(t.page, t.url, user.username, NEW_PASSWORD);
    // The account page's email section: the verified address, and the form to change it.
    await t.page.goto(`${t.url}/account`);
    const section = t.page.locator('section[aria-labelledby="email-title"]');
    await section.getByText(email).waitFor();
    await screenshotOf(section, 'account-email.png');
    expect(cspViolations(t.errors)).toEqual([]);
    expect(PASSWORD).not.toBe(NEW_PASSWORD);
  });
});
