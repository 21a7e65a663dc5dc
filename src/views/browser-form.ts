import type { Request } from 'express';
import { LOGIN_PAGE_PATH } from './login-page.js';

/** True for a browser form post: the client prefers an HTML page to JSON. */
export function prefersHtml(req: Request): boolean {
  return req.accepts(['application/json', 'text/html']) === 'text/html';
}

const REDIRECTED_STATUSES: ReadonlySet<number> = new Set([
  400, 401, 409, 413, 415, 429, 503,
]);

/**
 * Where a failed browser form post is sent instead of a JSON error: a person submitting a form
 * sees the error on the login page. A refused cross-site write (403) stays a plain answer.
 */
export function formErrorRedirect(
  req: Request,
  status: number,
  code: string,
): string | undefined {
  if (req.method !== 'POST' || !REDIRECTED_STATUSES.has(status)) return;
  if (!prefersHtml(req)) return;
  return `${LOGIN_PAGE_PATH}?error=${encodeURIComponent(code)}`;
}
