import type { RequestHandler } from 'express';
import helmet from 'helmet';

const BASE_DIRECTIVES = {
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

/**
 * helmet everywhere, with a strict Content-Security-Policy: no inline script or style.
 * Swagger UI (under the docs path) ships inline styles and sets style attributes, so only
 * there may styles be inline; scripts stay external everywhere.
 */
export function securityHeaders(docsPath: string): RequestHandler {
  const strict = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: BASE_DIRECTIVES },
    frameguard: { action: 'deny' },
  });
  const docs = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        ...BASE_DIRECTIVES,
        styleSrc: ["'self'", "'unsafe-inline'"],
      },
    },
    frameguard: { action: 'deny' },
  });
  return (req, res, next) =>
    req.path.startsWith(docsPath)
      ? docs(req, res, next)
      : strict(req, res, next);
}
