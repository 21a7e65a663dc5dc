import type { Request } from 'express';
import {
  ACCOUNT_PAGE_PATH,
  FORGOT_PAGE_PATH,
  LOGIN_PAGE_PATH,
  prefersHtml,
  RESET_PAGE_PATH,
} from '../infra/http/browser.js';
import { accountFormOf } from './account-page.js';
import { UNDO_LINK, VERIFY_LINK } from './email-link-page.js';

/** A mailed link's button posts back to the path of its page: errors are shown there. */
const LINK_PAGES: ReadonlySet<string> = new Set([
  VERIFY_LINK.path,
  UNDO_LINK.path,
]);

const REDIRECTED_STATUSES: ReadonlySet<number> = new Set([
  400, 401, 409, 413, 415, 429, 503,
]);

/** The account page's forms act on things that may be gone already (a login, a token): 404 too. */
const ACCOUNT_REDIRECTED_STATUSES: ReadonlySet<number> = new Set([
  ...REDIRECTED_STATUSES,
  404,
]);

/**
 * Where a failed browser request is sent instead of a JSON error: a person submitting a form
 * sees the error on the page the form is on (the account page's forms there, with the form's
 * name; anything else, or no longer being logged in, on the login page), and an anonymous
 * visitor of the account page is sent to log in. A refused cross-site write (403) stays a
 * plain answer.
 */
export function formErrorRedirect(
  req: Request,
  status: number,
  code: string,
): string | undefined {
  if (!prefersHtml(req)) return;
  if (req.method === 'GET')
    return status === 401 && req.path.replace(/\/$/, '') === ACCOUNT_PAGE_PATH
      ? LOGIN_PAGE_PATH
      : undefined;
  if (req.method !== 'POST') return;
  const error = encodeURIComponent(code);
  const form = accountFormOf(req.path);
  if (form && status !== 401 && ACCOUNT_REDIRECTED_STATUSES.has(status))
    return `${ACCOUNT_PAGE_PATH}?error=${error}&form=${form}`;
  if (!REDIRECTED_STATUSES.has(status)) return;
  if (LINK_PAGES.has(req.path)) return `${req.path}?error=${error}`;
  if (req.path === FORGOT_PAGE_PATH)
    return `${FORGOT_PAGE_PATH}?error=${error}`;
  // A new password the policy refuses: back to the link's form (the link is still unused).
  const token = (req.body as { token?: unknown } | undefined)?.token;
  if (
    req.path === RESET_PAGE_PATH &&
    code === 'validation_failed' &&
    typeof token === 'string' &&
    /^[A-Za-z0-9_-]{1,64}$/.test(token)
  )
    return `${RESET_PAGE_PATH}?token=${token}&error=${error}`;
  return `${LOGIN_PAGE_PATH}?error=${error}`;
}
