import type { Scope } from '../credentials/scopes.js';
import { escapeHtml, htmlDocument, noticeParagraph } from './html.js';

/** The page's forms, each with its own section for errors. */
export type AccountForm = 'logins' | 'password' | 'email' | 'personal-tokens';

const FORM_OF_PATH: readonly [RegExp, AccountForm][] = [
  [/^\/account\/logins\/[^/]+\/end$/, 'logins'],
  [/^\/account\/logout-all$/, 'logins'],
  [/^\/account\/password$/, 'password'],
  [/^\/account\/email(\/resend)?$/, 'email'],
  [/^\/account\/personal-tokens$/, 'personal-tokens'],
  [/^\/account\/personal-tokens\/[^/]+\/revoke$/, 'personal-tokens'],
];

/** The form a request to `path` was sent from, if it is one of the account page's forms. */
export function accountFormOf(path: string): AccountForm | undefined {
  return FORM_OF_PATH.find(([pattern]) => pattern.test(path))?.[1];
}

interface AccountLogin {
  id: string;
  device: string;
  ip: string;
  createdAt: string;
  lastSeenAt: string;
  current: boolean;
}

/** One line of "Recent activity": when, what in plain words, and the login it belongs to. */
interface AccountActivity {
  at: string;
  text: string;
  /** A live login's public id: the line links to that login's row. */
  liveLoginId: string | null;
}

interface AccountToken {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string;
}

/** A token just created: the one page that ever shows its secret. */
interface CreatedToken {
  name: string;
  token: string;
  scopes: Scope[];
  expiresAt: string;
}

export interface AccountPageModel {
  username: string;
  logins: AccountLogin[];
  tokens: AccountToken[];
  /** The account's latest security events, newest first. */
  activity: AccountActivity[];
  /** The scopes a new token may be given, with what each allows. */
  grantableScopes: { name: Scope; description: string }[];
  /** The expiry choices in days, and the one preselected. */
  expiryDays: { choices: readonly number[]; default: number };
  createdToken?: CreatedToken;
  /** The account's address; absent with MAIL=off (no section then). */
  email?: { address: string | null; verified: boolean };
  /** This rendering's id for the token form, so a reload that posts it again creates nothing. */
  tokenFormId: string;
  notice?: string;
  error?: { form: AccountForm; message: string };
}

const NOTICES: Record<string, string> = {
  login_ended: 'The login has ended.',
  password_changed:
    'Your password has been changed. Every other login has ended.',
  token_revoked: 'The token has been revoked.',
  email_change_sent:
    'A link to confirm the new address has been sent to it. Your address changes once you open it and press Confirm.',
  email_link_sent: 'A new confirmation link has been sent.',
};

const COMMON_ERRORS: Record<string, string> = {
  too_many_attempts: 'Too many attempts. Wait a little and try again.',
  store_unavailable: 'The service is unavailable. Try again shortly.',
  database_unavailable: 'The service is unavailable. Try again shortly.',
  payload_too_large: 'The form was too large.',
  bad_request: 'The form could not be read.',
};

const FORM_ERRORS: Record<AccountForm, Record<string, string>> = {
  logins: {
    not_found: 'That login has already ended.',
  },
  password: {
    wrong_password: 'The current password is wrong.',
    validation_failed:
      'Enter your current password and a new password of 8-128 characters that is not one of the most common passwords.',
  },
  email: {
    wrong_password:
      'The current password is wrong. The address was not changed.',
    validation_failed:
      'Enter one email address such as name@example.com (not your current verified one) and your current password.',
  },
  'personal-tokens': {
    not_found: 'That token has already been revoked.',
    wrong_password: 'The current password is wrong. No token was created.',
    form_already_sent:
      'That form was sent already, and its token is in the list above. To create another, fill in this new form.',
    validation_failed:
      'Give the token a name of up to 100 characters, tick at least one scope, choose an expiry and enter your current password.',
  },
};

// Own keys only: `?done=__proto__` or `?error=constructor` must not find Object.prototype members.
function lookUp(
  table: Record<string, string>,
  key: string,
): string | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export function accountNotice(code: unknown): string | undefined {
  return typeof code === 'string' ? lookUp(NOTICES, code) : undefined;
}

/** The error to show after a failed form post: `?error=<code>&form=<form>`. */
export function accountError(
  code: unknown,
  form: unknown,
): AccountPageModel['error'] {
  if (typeof code !== 'string' || typeof form !== 'string') return undefined;
  if (!Object.hasOwn(FORM_ERRORS, form)) return undefined;
  const known = form as AccountForm;
  return {
    form: known,
    message:
      lookUp(FORM_ERRORS[known], code) ??
      lookUp(COMMON_ERRORS, code) ??
      'Something went wrong. Try again.',
  };
}

/** `2026-01-02 13:04 UTC` inside a machine-readable <time>. */
function time(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '–';
  return `<time datetime="${date.toISOString()}">${timeText(iso)}</time>`;
}

function timeText(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '–';
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function errorFor(model: AccountPageModel, form: AccountForm): string {
  if (model.error?.form !== form) return '';
  return `<p class="error" role="alert" id="${form}-error">${escapeHtml(model.error.message)}</p>`;
}

function loginRow(login: AccountLogin): string {
  const device = escapeHtml(login.device);
  const current = login.current
    ? ' <strong class="badge">this browser</strong>'
    : '';
  return `<tr id="${loginAnchor(login.id)}"${login.current ? ' class="current"' : ''}>
          <td>${device}${current}</td>
          <td>${escapeHtml(login.ip || '–')}</td>
          <td>${time(login.createdAt)}</td>
          <td>${time(login.lastSeenAt)}</td>
          <td>
            <form method="post" action="/account/logins/${encodeURIComponent(login.id)}/end">
              <button type="submit" class="secondary">End<span class="visually-hidden"> the login from ${device}${login.current ? ' (this browser: logs you out)' : ''}, created ${timeText(login.createdAt)}</span></button>
            </form>
          </td>
        </tr>`;
}

/** A login row's fragment id: the public login id, never a session id or token. */
function loginAnchor(loginId: string): string {
  return `login-${escapeHtml(loginId)}`;
}

function activityItem(item: AccountActivity): string {
  const link = item.liveLoginId
    ? ` <a href="#${loginAnchor(item.liveLoginId)}">the login</a>`
    : '';
  return `<li>${time(item.at)} ${escapeHtml(item.text)}${link}</li>`;
}

function activitySection(model: AccountPageModel): string {
  const items =
    model.activity.length === 0
      ? '<p>Nothing yet.</p>'
      : `<ol class="activity">
        ${model.activity.map(activityItem).join('\n        ')}
      </ol>`;
  return `<section aria-labelledby="activity-title">
      <h2 id="activity-title">Recent activity</h2>
      ${items}
      <p class="hint">Newest first. The whole record: <code>GET /auth/events</code>.</p>
    </section>`;
}

function loginsSection(model: AccountPageModel): string {
  return `<section aria-labelledby="logins-title">
      <h2 id="logins-title">Your logins</h2>
      ${errorFor(model, 'logins')}
      <table>
        <thead>
          <tr><th scope="col">Device</th><th scope="col">Address</th><th scope="col">Created</th><th scope="col">Last seen</th><th scope="col"><span class="visually-hidden">Action</span></th></tr>
        </thead>
        <tbody>
        ${model.logins.map(loginRow).join('\n        ')}
        </tbody>
      </table>
      <form method="post" action="/account/logout-all">
        <button type="submit" class="danger">Log out everywhere</button>
      </form>
    </section>`;
}

function passwordSection(model: AccountPageModel): string {
  const invalid = model.error?.form === 'password';
  const described = invalid
    ? ' aria-describedby="password-error" aria-invalid="true"'
    : '';
  return `<section aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      ${errorFor(model, 'password')}
      <form method="post" action="/account/password">
        <label for="current-password">Current password</label>
        <input id="current-password" name="currentPassword" type="password" autocomplete="current-password" required maxlength="1024"${described}>
        <label for="new-password">New password</label>
        <input id="new-password" name="newPassword" type="password" autocomplete="new-password" required minlength="8" maxlength="128" aria-describedby="new-password-hint">
        <p class="hint" id="new-password-hint">8-128 characters. Every other login ends when it changes.</p>
        <button type="submit">Change password</button>
      </form>
    </section>`;
}

function emailSection(model: AccountPageModel): string {
  if (!model.email) return '';
  const { address, verified } = model.email;
  const invalid = model.error?.form === 'email';
  const described = invalid
    ? ' aria-describedby="email-error" aria-invalid="true"'
    : '';
  const current =
    address === null
      ? '<p>No email address yet. With a verified address you can also log in by it.</p>'
      : `<p>Your address: <strong>${escapeHtml(address)}</strong> ${
          verified
            ? '<span class="badge">verified</span>'
            : '<em>not verified yet</em>'
        }</p>`;
  const resend =
    address !== null && !verified
      ? `<form method="post" action="/account/email/resend">
        <button type="submit" class="secondary">Send a new confirmation link</button>
      </form>`
      : '';
  return `<section aria-labelledby="email-title">
      <h2 id="email-title">Email address</h2>
      ${errorFor(model, 'email')}
      ${current}
      ${resend}
      <form method="post" action="/account/email">
        <label for="new-email">${address === null ? 'Email address' : 'New email address'}</label>
        <input id="new-email" name="email" type="email" autocomplete="email" required maxlength="254">
        <label for="email-password">Current password</label>
        <input id="email-password" name="currentPassword" type="password" autocomplete="current-password" required maxlength="1024"${described}>
        <p class="hint">A link to confirm it is mailed to the new address${verified ? '; the current one stays until then and is told of the change' : ''}.</p>
        <button type="submit">${address === null ? 'Add address' : 'Change address'}</button>
      </form>
    </section>`;
}

function tokenRow(token: AccountToken): string {
  const name = escapeHtml(token.name);
  return `<tr>
          <td>${name}</td>
          <td><code>${escapeHtml(token.prefix)}…</code></td>
          <td>${token.scopes.map(escapeHtml).join(', ')}</td>
          <td>${time(token.createdAt)}</td>
          <td>${token.lastUsedAt ? time(token.lastUsedAt) : 'never'}</td>
          <td>${time(token.expiresAt)}</td>
          <td>
            <form method="post" action="/account/personal-tokens/${encodeURIComponent(token.id)}/revoke">
              <button type="submit" class="secondary">Revoke<span class="visually-hidden"> the token ${name}</span></button>
            </form>
          </td>
        </tr>`;
}

function createdTokenBox(created: CreatedToken): string {
  return `<div class="secret" role="status" aria-labelledby="new-token-title">
        <h3 id="new-token-title">Token “${escapeHtml(created.name)}” created</h3>
        <label for="new-token">Your new token (${created.scopes.map(escapeHtml).join(', ')}; expires ${timeText(created.expiresAt)})</label>
        <input id="new-token" readonly autofocus spellcheck="false" autocomplete="off" value="${escapeHtml(created.token)}" aria-describedby="new-token-hint">
        <p class="hint" id="new-token-hint"><strong>Copy it now: it is shown only this once.</strong> Select it (click into the box, then Ctrl+A, or ⌘A on a Mac) and copy it with Ctrl+C (⌘C). Send it as <code>Authorization: Bearer &lt;token&gt;</code>.</p>
      </div>`;
}

function tokensSection(model: AccountPageModel): string {
  const invalid = model.error?.form === 'personal-tokens';
  const described = invalid
    ? ' aria-describedby="personal-tokens-error" aria-invalid="true"'
    : '';
  const list = model.tokens.length
    ? `<table>
        <thead>
          <tr><th scope="col">Name</th><th scope="col">Token</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Action</span></th></tr>
        </thead>
        <tbody>
        ${model.tokens.map(tokenRow).join('\n        ')}
        </tbody>
      </table>`
    : '<p>You have no personal tokens.</p>';
  const scopes = model.grantableScopes
    .map(
      (scope) => `<div class="choice">
            <input type="checkbox" id="scope-${scope.name}" name="scopes" value="${scope.name}">
            <label for="scope-${scope.name}"><code>${scope.name}</code>: ${escapeHtml(scope.description)}</label>
          </div>`,
    )
    .join('\n          ');
  const expiry = model.expiryDays.choices
    .map(
      (days) =>
        `<option value="${days}"${days === model.expiryDays.default ? ' selected' : ''}>${days} days</option>`,
    )
    .join('');
  return `<section aria-labelledby="tokens-title">
      <h2 id="tokens-title">Personal tokens</h2>
      <p class="hint">Long-lived bearer tokens for scripts and tools. They belong to no login: logging out everywhere or changing the password leaves them working, so revoke the ones you no longer use.</p>
      ${errorFor(model, 'personal-tokens')}
      ${model.createdToken ? createdTokenBox(model.createdToken) : ''}
      ${list}
      <h3 id="new-token-form-title">Create a token</h3>
      <form method="post" action="/account/personal-tokens" aria-labelledby="new-token-form-title">
        <input type="hidden" name="formId" value="${escapeHtml(model.tokenFormId)}">
        <label for="token-name">Name</label>
        <input id="token-name" name="name" required maxlength="100" autocomplete="off" aria-describedby="token-name-hint">
        <p class="hint" id="token-name-hint">What it is for, such as “deploy script”.</p>
        <fieldset>
          <legend>Scopes</legend>
          ${scopes}
        </fieldset>
        <label for="token-expiry">Expires after</label>
        <select id="token-expiry" name="expiresInDays">${expiry}</select>
        <label for="token-password">Current password</label>
        <input id="token-password" name="currentPassword" type="password" autocomplete="current-password" required maxlength="1024"${described}>
        <button type="submit">Create token</button>
      </form>
    </section>`;
}

/** The account page. No inline script or style, so it renders under the pages' strict CSP. */
export function renderAccountPage(model: AccountPageModel): string {
  return htmlDocument({
    title: 'Your account',
    stylesheets: ['/assets/login.css', '/assets/account.css'],
    bodyClass: 'account',
    main: `  <header>
    <h1>Your account</h1>
    <p>Logged in as <strong>${escapeHtml(model.username)}</strong></p>
    <form method="post" action="/auth/logout">
      <button type="submit" class="secondary">Log out</button>
    </form>
  </header>
  ${noticeParagraph(model.notice)}
  ${loginsSection(model)}
  ${passwordSection(model)}
  ${emailSection(model)}
  ${tokensSection(model)}
  ${activitySection(model)}`,
  });
}

export const ACCOUNT_PAGE_CSS = `
body.account { place-items: start center; padding: 2rem 0; }
body.account main { width: min(64rem, 94vw); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 1.5rem; }
header h1 { margin-right: auto; }
header form button { margin-top: 0; }
section { margin-top: 2rem; }
ol.activity { padding-left: 0; list-style: none; }
ol.activity li { padding: 0.3rem 0; border-bottom: 1px solid #e5e7eb; }
ol.activity time { display: inline-block; min-width: 10.5rem; color: #4b5563; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 0.5rem 0.4rem; border-bottom: 1px solid #d5d9e0; vertical-align: middle; }
td form button { margin-top: 0; }
tr.current td { background: #eef3fd; }
.badge { display: inline-block; margin-left: 0.4rem; padding: 0.05rem 0.5rem; border-radius: 999px; background: #2456c7; color: #fff; font-size: 0.8rem; font-weight: 600; }
.hint { margin: 0.3rem 0 0; color: #4a5468; font-size: 0.9rem; }
button.secondary { background: #e6e9ef; color: #1d2330; }
button.danger { background: #b42318; }
button:focus-visible, input:focus-visible, select:focus-visible, a:focus-visible { outline: 3px solid #3b82f6; outline-offset: 2px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
fieldset { margin: 0.8rem 0 0; padding: 0.4rem 0.8rem 0.8rem; border: 1px solid #9aa3b2; border-radius: 6px; }
legend { font-weight: 600; padding: 0 0.3rem; }
.choice { display: flex; align-items: baseline; gap: 0.5rem; margin-top: 0.4rem; }
.choice input { width: auto; }
.choice label { display: inline; margin: 0; font-weight: normal; }
select { width: 100%; box-sizing: border-box; padding: 0.55rem; font-size: 1rem; border: 1px solid #9aa3b2; border-radius: 6px; background: #fff; color: inherit; }
.secret { margin: 1rem 0; padding: 1rem; border: 2px solid #1e5e33; border-radius: 8px; background: #e6f4ea; }
.secret h3 { margin-top: 0; }
.secret input { font-family: ui-monospace, monospace; }
code { font-family: ui-monospace, monospace; font-size: 0.95em; }
@media (prefers-color-scheme: dark) {
  select { background: #12151c; color: #e6e9ef; border-color: #4a5468; }
  .secret { background: #163222; border-color: #4caf72; }
  th, td { border-bottom-color: #3a4254; }
  tr.current td { background: #1f2a40; }
  .hint { color: #aab3c5; }
  button.secondary { background: #3a4254; color: #e6e9ef; }
}
`;
