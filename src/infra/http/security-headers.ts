import type { RequestHandler } from 'express';
import helmet from 'helmet';

const PAGE_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** Paths that serve HTML (or what HTML loads) besides the docs: the login page and its assets. */
const PAGE_PATHS = new Set(['/', '/auth/login']);
const ASSETS_PREFIX = '/assets/';
/** The account page and its forms (whose answers are redirects or the page): per user, never cached. */
const ACCOUNT_PATH = '/account';
/** The password-reset pages and their forms: a link's token is on them, so never cached. */
const RESET_PATHS = new Set(['/auth/password/forgot', '/auth/password/reset']);

/**
 * Security headers, by what a response is.
 *
 * - Pages (the login page, the account page, their assets, Swagger UI under the docs path):
 *   all of helmet, with a strict Content-Security-Policy: no inline script or style. Swagger
 *   UI ships inline styles and sets style attributes, so only there may styles be inline.
 *   The account page is per user, and the reset pages carry a link's token, so neither is
 *   ever cached; helmet's `Referrer-Policy: no-referrer` keeps the token out of other sites' logs.
 * - Everything else is the JSON API. It gets the OWASP REST set instead: nothing may load or
 *   frame it (`default-src 'none'; frame-ancestors 'none'`), nosniff, no cross-origin
 *   embedding, no referrer, HSTS, and `Cache-Control: no-store` (answers are per user;
 *   a route may override it). Headers that only mean something for HTML are left out: every
 *   byte is sent, and parsed by the client, on every API call.
 */
export function securityHeaders(docsPath: string): RequestHandler {
  const page = (styleSrc: string[]) =>
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { ...PAGE_DIRECTIVES, styleSrc },
      },
      frameguard: { action: 'deny' },
    });
  const pages = page(["'self'"]);
  const docs = page(["'self'", "'unsafe-inline'"]);
  const api = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    frameguard: { action: 'deny' },
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  return (req, res, next) => {
    const path = req.path;
    if (path.startsWith(docsPath)) return docs(req, res, next);
    if (PAGE_PATHS.has(path) || path.startsWith(ASSETS_PREFIX))
      return pages(req, res, next);
    if (
      path === ACCOUNT_PATH ||
      path.startsWith(`${ACCOUNT_PATH}/`) ||
      RESET_PATHS.has(path)
    ) {
      res.setHeader('Cache-Control', 'no-store');
      return pages(req, res, next);
    }
    res.setHeader('Cache-Control', 'no-store');
    api(req, res, next);
  };
}
