import { escapeHtml, htmlDocument, noticeParagraph } from './html.js';

export interface LoginPageModel {
  username?: string;
  /** Registration takes an address (off with MAIL=off: nothing could verify it). */
  emailField?: boolean;
  error?: string;
  notice?: string;
  /** Show "Forgot your password?" (only while mail is on). */
  passwordReset?: boolean;
}

const ERROR_MESSAGES: Record<string, string> = {
  invalid_grant: 'Wrong username or password.',
  invalid_request: 'Enter a username and a password.',
  username_taken: 'That username is taken.',
  validation_failed:
    'Usernames are 3-64 letters, digits or "._@-"; passwords are 8-128 characters; an email is one address such as name@example.com.',
  too_many_attempts: 'Too many attempts. Wait a little and try again.',
  forbidden: 'The request was refused.',
  cross_site_request: 'The form was sent from another site and was refused.',
  unauthenticated: 'You are not logged in.',
  store_unavailable: 'The service is unavailable. Try again shortly.',
  invalid_link:
    'That link is no longer valid: used, expired or replaced by a newer one. Ask for a new one.',
};

export function loginErrorMessage(
  code: string | undefined,
): string | undefined {
  if (!code) return undefined;
  // Own keys only: `?error=__proto__` or `?error=constructor` must not find Object.prototype members.
  return Object.hasOwn(ERROR_MESSAGES, code)
    ? ERROR_MESSAGES[code]
    : 'Something went wrong. Try again.';
}

/** The login page. No inline script or style, so it renders under a strict CSP. */
export function renderLoginPage(model: LoginPageModel): string {
  const body = model.username
    ? `<section aria-labelledby="state">
        <h1 id="state">Logged in as ${escapeHtml(model.username)}</h1>
        <form method="post" action="/auth/logout">
          <button type="submit">Log out</button>
        </form>
        <p><a href="/account">Your account: logins, password and personal tokens</a></p>
        <p><a href="/docs">Open the API documentation</a></p>
      </section>`
    : `<div class="forms">
      <section aria-labelledby="login-title">
        <h1 id="login-title">Log in</h1>
        <form method="post" action="/auth/token">
          <label for="login-username">Username or verified email</label>
          <input id="login-username" name="username" autocomplete="username" required autofocus maxlength="254">
          <label for="login-password">Password</label>
          <input id="login-password" name="password" type="password" autocomplete="current-password" required maxlength="128">
          <button type="submit">Log in</button>
        </form>${
          model.passwordReset
            ? '\n        <p><a href="/auth/password/forgot">Forgot your password?</a></p>'
            : ''
        }
      </section>
      <section aria-labelledby="register-title">
        <h2 id="register-title">Create an account</h2>
        <form method="post" action="/auth/register">
          <label for="register-username">Username</label>
          <input id="register-username" name="username" autocomplete="username" required minlength="3" maxlength="64" pattern="[A-Za-z0-9._@\\-]{3,64}">
          <label for="register-password">Password</label>
          <input id="register-password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="128">
          ${
            model.emailField
              ? `<label for="register-email">Email (optional)</label>
          <input id="register-email" name="email" type="email" autocomplete="email" maxlength="254">`
              : ''
          }
          <button type="submit">Create account</button>
        </form>
      </section>
      </div>
      <p><a href="/docs">API documentation</a></p>`;
  const error = model.error
    ? `<p class="error" role="alert">${escapeHtml(model.error)}</p>`
    : '';
  return htmlDocument({
    title: model.username ? 'Logged in' : 'Log in',
    stylesheets: ['/assets/login.css'],
    main: `${error}${noticeParagraph(model.notice)}${body}`,
  });
}

export const LOGIN_PAGE_CSS = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f4f5f7; color: #1d2330; }
main { width: min(44rem, 92vw); background: #fff; padding: 2rem; border-radius: 12px; box-shadow: 0 2px 12px rgb(0 0 0 / 0.08); }
.forms { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 2rem; }
h1, h2 { margin-top: 0; font-size: 1.4rem; }
label { display: block; margin: 0.8rem 0 0.3rem; font-weight: 600; }
input { width: 100%; box-sizing: border-box; padding: 0.55rem; font-size: 1rem; border: 1px solid #9aa3b2; border-radius: 6px; }
input:focus, button:focus, a:focus { outline: 3px solid #3b82f6; outline-offset: 2px; }
button { margin-top: 1.2rem; padding: 0.6rem 1.2rem; font-size: 1rem; border: 0; border-radius: 6px; background: #2456c7; color: #fff; cursor: pointer; }
.error { background: #fde8e8; color: #8a1c1c; padding: 0.7rem 1rem; border-radius: 6px; }
.notice { background: #e6f4ea; color: #1e5e33; padding: 0.7rem 1rem; border-radius: 6px; }
a { color: #2456c7; }
input[type="checkbox"] { width: auto; margin-right: 0.4rem; }
fieldset { margin-top: 1rem; border: 1px solid #9aa3b2; border-radius: 6px; }
@media (prefers-color-scheme: dark) {
  body { background: #12151c; color: #e6e9ef; }
  main { background: #1c212b; }
  input { background: #12151c; color: #e6e9ef; border-color: #4a5468; }
  a { color: #8ab4ff; }
}
`;
