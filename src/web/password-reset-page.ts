import type { ResetForm } from '../login/password-reset.service.js';
import { escapeHtml, htmlDocument, noticeParagraph } from './html.js';
import { loginErrorMessage } from './login-page.js';

const STYLESHEETS = ['/assets/login.css'];

/** The page asking for a reset link: the same notice after any login is sent. */
export function renderForgotPage(model: {
  notice?: string;
  error?: string;
}): string {
  const error = model.error
    ? `<p class="error" role="alert">${escapeHtml(model.error)}</p>`
    : '';
  return htmlDocument({
    title: 'Forgot your password?',
    stylesheets: STYLESHEETS,
    main: `${error}${noticeParagraph(model.notice)}
      <section aria-labelledby="forgot-title">
        <h1 id="forgot-title">Forgot your password?</h1>
        <p>Enter your username or your account's verified email address. We mail a link to that address to choose a new password.</p>
        <form method="post" action="/auth/password/forgot">
          <label for="forgot-login">Username or email</label>
          <input id="forgot-login" name="login" autocomplete="username" required maxlength="254">
          <button type="submit">Send the link</button>
        </form>
      </section>
      <p><a href="/auth/login">Back to the login page</a></p>`,
  });
}

/**
 * A reset link's page: the new-password form, the token in its body (a hidden field, never
 * in a URL it loads), or, for a dead link, that it no longer works. Showing it uses nothing up.
 */
export function renderResetPage(model: {
  token: string;
  form: ResetForm | null;
  error?: string;
}): string {
  if (!model.form)
    return htmlDocument({
      title: 'Link no longer valid',
      stylesheets: STYLESHEETS,
      main: `<section aria-labelledby="reset-title">
        <h1 id="reset-title">This link is no longer valid</h1>
        <p>It was used already, it expired, or a newer link was sent. Ask for a new one.</p>
        <p><a href="/auth/password/forgot">Ask for a new link</a></p>
      </section>`,
    });
  const { username, personalTokens } = model.form;
  const tokens = personalTokens.length
    ? `<fieldset>
          <legend>Personal access tokens (${personalTokens.length})</legend>
          <ul class="token-names">${personalTokens.map((name) => `<li>${escapeHtml(name)}</li>`).join('')}</ul>
          <input type="hidden" name="revokePersonalTokens" value="false">
          <label><input type="checkbox" name="revokePersonalTokens" value="true" checked> Also revoke my personal access tokens</label>
        </fieldset>`
    : '<input type="hidden" name="revokePersonalTokens" value="true">';
  const error = model.error
    ? `<p class="error" role="alert">${escapeHtml(model.error)}</p>`
    : '';
  return htmlDocument({
    title: 'Choose a new password',
    stylesheets: STYLESHEETS,
    main: `${error}<section aria-labelledby="reset-title">
        <h1 id="reset-title">Choose a new password</h1>
        <p>For the account <strong>${escapeHtml(username)}</strong>. Every login of the account ends; you log in again with the new password.</p>
        <form method="post" action="/auth/password/reset">
          <input type="hidden" name="token" value="${escapeHtml(model.token)}">
          <input type="text" value="${escapeHtml(username)}" autocomplete="username" aria-hidden="true" hidden readonly>
          <label for="reset-password">New password</label>
          <input id="reset-password" name="newPassword" type="password" autocomplete="new-password" required minlength="8" maxlength="128" autofocus>
          ${tokens}
          <button type="submit">Set the new password</button>
        </form>
      </section>`,
  });
}

export function resetErrorMessage(
  code: string | undefined,
): string | undefined {
  if (code === 'validation_failed')
    return 'Passwords are 8-128 characters, and not one of the most common ones.';
  return loginErrorMessage(code);
}
