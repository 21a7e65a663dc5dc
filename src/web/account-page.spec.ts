import {
  accountError,
  accountFormOf,
  accountNotice,
  renderAccountPage,
  type AccountPageModel,
} from './account-page.js';

const MODEL: AccountPageModel = {
  username: 'alice',
  logins: [],
  tokens: [],
  activity: [],
  grantableScopes: [{ name: 'profile', description: 'Read your account' }],
  expiryDays: { choices: [7, 30], default: 30 },
  tokenFormId: 'AAAAAAAAAAAAAAAAAAAAAA',
};

describe('account page', () => {
  it.each([
    ['/account/logins/abc/end', 'logins'],
    ['/account/logout-all', 'logins'],
    ['/account/password', 'password'],
    ['/account/personal-tokens', 'personal-tokens'],
    ['/account/personal-tokens/abc/revoke', 'personal-tokens'],
  ])('knows %s as a form of the %s section', (path, form) => {
    expect(accountFormOf(path)).toBe(form);
  });

  it.each([
    '/account',
    '/auth/password',
    '/account/logins/a/b/end',
    '/account/passwordx',
  ])('knows %s as no form of the page', (path) => {
    expect(accountFormOf(path)).toBeUndefined();
  });

  it('names a known error for its form, a common one for any form, anything else generically', () => {
    expect(accountError('wrong_password', 'password')?.message).toBe(
      'The current password is wrong.',
    );
    expect(accountError('wrong_password', 'personal-tokens')?.message).toMatch(
      /No token was created/,
    );
    expect(accountError('too_many_attempts', 'logins')?.message).toMatch(
      /Too many attempts/,
    );
    expect(accountError('toString', 'password')?.message).toBe(
      'Something went wrong. Try again.',
    );
  });

  it('ignores errors without a known form, and notices it does not know', () => {
    expect(accountError('not_found', '__proto__')).toBeUndefined();
    expect(accountError(['not_found'], 'logins')).toBeUndefined();
    expect(accountError('not_found', undefined)).toBeUndefined();
    expect(accountNotice('constructor')).toBeUndefined();
    expect(accountNotice(['login_ended'])).toBeUndefined();
    expect(accountNotice('login_ended')).toBe('The login has ended.');
  });

  it('escapes what users and clients chose: names, devices, addresses', () => {
    const html = renderAccountPage({
      ...MODEL,
      username: '<b>alice</b>',
      logins: [
        {
          id: '"><script>',
          device: '<img src=x>',
          ip: '<i>',
          createdAt: 'not a date',
          lastSeenAt: '2026-01-02T13:04:05.000Z',
          current: true,
        },
      ],
      tokens: [
        {
          id: 'id',
          name: '<script>alert(1)</script>',
          prefix: 'sbat_abcd',
          scopes: ['profile'],
          createdAt: '2026-01-02T13:04:05.000Z',
          lastUsedAt: null,
          expiresAt: '2026-04-02T13:04:05.000Z',
        },
      ],
    });
    expect(html).not.toMatch(/<(script|img|b|i)[ >]/);
    expect(html).toContain('action="/account/logins/%22%3E%3Cscript%3E/end"');
    expect(html).toContain('<td>–</td>');
    expect(html).toContain(
      '<time datetime="2026-01-02T13:04:05.000Z">2026-01-02 13:04 UTC</time>',
    );
    expect(html).toContain('<td>never</td>');
  });

  it('shows a created token in a read-only field with the copy hint, and preselects the default expiry', () => {
    const html = renderAccountPage({
      ...MODEL,
      createdToken: {
        name: 'ci',
        token: 'sbat_secret',
        scopes: ['profile'],
        expiresAt: '2026-04-02T13:04:05.000Z',
      },
    });
    expect(html).toMatch(
      /<input id="new-token" readonly[^>]*value="sbat_secret"/,
    );
    expect(html).toContain('Copy it now: it is shown only this once.');
    expect(html).toContain('<option value="30" selected>30 days</option>');
    expect(html).not.toContain('<script');
  });

  it("puts this rendering's form id in the token form, for once-only posting", () => {
    const html = renderAccountPage({
      ...MODEL,
      tokenFormId: 'form-id_0123456789abcd',
    });
    expect(html).toMatch(
      /<form method="post" action="\/account\/personal-tokens"[^>]*>\s*<input type="hidden" name="formId" value="form-id_0123456789abcd">/,
    );
  });

  it('explains a token form sent twice', () => {
    expect(accountError('form_already_sent', 'personal-tokens')).toEqual({
      form: 'personal-tokens',
      message: expect.stringContaining('sent already'),
    });
  });

  it('shows recent activity escaped, linking a live login by its public id only', () => {
    const html = renderAccountPage({
      ...MODEL,
      logins: [
        {
          id: 'L1',
          device: 'Firefox on Windows',
          ip: '203.0.113.7',
          createdAt: '2026-12-01T10:00:00.000Z',
          lastSeenAt: '2026-12-01T10:00:00.000Z',
          current: true,
        },
      ],
      activity: [
        {
          at: '2026-12-01T10:00:00.000Z',
          text: 'Logged in from Firefox on Windows, 203.0.113.7',
          liveLoginId: 'L1',
        },
        {
          at: '2026-11-30T09:00:00.000Z',
          text: 'Created the personal token “<script>”',
          liveLoginId: null,
        },
      ],
    });
    expect(html).toContain('<tr id="login-L1" class="current">');
    expect(html).toMatch(
      /<li><time datetime="2026-12-01T10:00:00.000Z">2026-12-01 10:00 UTC<\/time> Logged in from Firefox on Windows, 203.0.113.7 <a href="#login-L1">the login<\/a><\/li>/,
    );
    expect(html).toContain('“&#60;script&#62;”');
    expect(html).not.toContain('<script>');
  });

  it('says so when there is no activity yet', () => {
    expect(renderAccountPage(MODEL)).toMatch(
      /Recent activity<\/h2>\s*<p>Nothing yet.<\/p>/,
    );
  });
});
