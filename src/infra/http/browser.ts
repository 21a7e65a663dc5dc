import type { Request } from 'express';

/** The pages (served by the web module) that form posts elsewhere redirect to. */
export const LOGIN_PAGE_PATH = '/auth/login';
export const ACCOUNT_PAGE_PATH = '/account';

/** True for a browser form post: the client prefers an HTML page to JSON. */
export function prefersHtml(req: Request): boolean {
  return req.accepts(['application/json', 'text/html']) === 'text/html';
}

/** The password-reset pages: asking for a link, and the link's form. */
export const FORGOT_PAGE_PATH = '/auth/password/forgot';
export const RESET_PAGE_PATH = '/auth/password/reset';
