import { escapeHtml, htmlDocument, noticeParagraph } from './html.js';

/** What a mailed link's page is for: its wording and where its button posts. */
export interface EmailLink {
  path: string;
  title: string;
  explanation: string;
  button: string;
  done: string;
}

export const VERIFY_LINK: EmailLink = {
  path: '/auth/email/verify',
  title: 'Confirm your email address',
  explanation:
    'Press the button to confirm this address for your account. Once confirmed, you can also log in with it.',
  button: 'Confirm',
  done: 'Your email address is verified. You can log in with it now.',
};

export const UNDO_LINK: EmailLink = {
  path: '/auth/email/undo',
  title: 'Undo the email change',
  explanation:
    'Press the button to keep this address on your account, cancel the change and end every login of the account. Then log in again and change your password.',
  button: 'This was not me: undo the change',
  done: 'The change was undone: your old address is back and every login has ended. Log in and change your password.',
};

const ERRORS: Record<string, string> = {
  invalid_link:
    'This link is not valid: it was used, has expired or was replaced by a newer one.',
  email_taken:
    'Another account has verified this address first, so it cannot be yours here. Use another address.',
  validation_failed: 'This link is not valid.',
  cross_site_request: 'The form was sent from another site and was refused.',
  store_unavailable: 'The service is unavailable. Try again shortly.',
  database_unavailable: 'The service is unavailable. Try again shortly.',
};

export interface EmailLinkPageModel {
  link: EmailLink;
  /** A token that still works: the page shows the button that posts it. */
  token?: string;
  done?: boolean;
  error?: string;
}

export function emailLinkError(code: unknown): string | undefined {
  if (typeof code !== 'string') return undefined;
  // Own keys only: `?error=__proto__` must not find Object.prototype members.
  return Object.hasOwn(ERRORS, code)
    ? ERRORS[code]
    : 'Something went wrong. Try again.';
}

/**
 * The page a mailed link opens. Opening it uses nothing up (mail scanners open links): only
 * the button's POST, with the token in the form body, does.
 */
export function renderEmailLinkPage(model: EmailLinkPageModel): string {
  const { link } = model;
  const error = model.error
    ? `<p class="error" role="alert">${escapeHtml(model.error)}</p>`
    : '';
  let body: string;
  if (model.done) body = noticeParagraph(link.done);
  else if (model.token)
    body = `<p>${escapeHtml(link.explanation)}</p>
      <form method="post" action="${escapeHtml(link.path)}">
        <input type="hidden" name="token" value="${escapeHtml(model.token)}">
        <button type="submit">${escapeHtml(link.button)}</button>
      </form>`;
  else
    body = model.error
      ? ''
      : `<p class="error" role="alert">${escapeHtml(ERRORS.invalid_link)}</p>`;
  return htmlDocument({
    title: link.title,
    stylesheets: ['/assets/login.css'],
    main: `<h1>${escapeHtml(link.title)}</h1>
      ${error}${body}
      <p><a href="/auth/login">Log in</a></p>`,
  });
}
