import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import type { Redis } from 'ioredis';
import onHeaders from 'on-headers';
import {
  DomainErrorFilter,
  STORE_UNAVAILABLE,
} from '../common/domain-error.filter.js';
import type { AppConfig } from '../config/app-config.js';
import { newSessionId } from './session-id.js';
import { SessionStore } from './session.store.js';
import './session-auth.js';

function hasCookie(req: Request, name: string): boolean {
  const header = req.headers.cookie;
  return (
    typeof header === 'string' &&
    header.split(';').some((part) => part.trim().startsWith(`${name}=`))
  );
}

/**
 * express-session on Redis. Anonymous requests get no session and no cookie. A store failure
 * answers 503 at once. A cookie whose session is gone (forged, expired, logged out) is
 * treated as no session and cleared in the response.
 */
export function sessionMiddleware(
  config: AppConfig,
  redis: Redis,
): RequestHandler {
  const cookie = {
    httpOnly: true,
    sameSite: 'lax' as const,
    path: '/',
    // Secure whenever the request arrived over HTTPS, directly or through a trusted proxy.
    secure: 'auto' as const,
  };
  const handler = session({
    name: config.sessionCookieName,
    secret: config.sessionSecrets,
    store: new SessionStore(redis, config.sessionIdleSeconds),
    genid: () => newSessionId(config.sessionAbsoluteSeconds),
    resave: false,
    saveUninitialized: false,
    rolling: false,
    unset: 'destroy',
    proxy: config.trustProxy !== false,
    cookie,
  });

  // Middleware errors do not reach Nest's filters; the filter's mapping is used directly.
  const errorFilter = new DomainErrorFilter();
  return (req: Request, res: Response, next: NextFunction) => {
    const hadCookie = hasCookie(req, config.sessionCookieName);
    handler(req, res, (err?: unknown) => {
      if (err) {
        // express-session reports a failed save or destroy at the end of a response through
        // this same callback, after the response has gone out: nothing is left to answer.
        if (res.headersSent) return;
        // Without a session object express-session would destroy the session when this
        // response ends (unset: 'destroy'); a store that failed to read must not lose it.
        delete (req as { sessionID?: string }).sessionID;
        const { status, body, headers } = errorFilter.toHttp(STORE_UNAVAILABLE);
        res.status(status).set(headers).json(body);
        return;
      }
      if (hadCookie && !req.session.auth) {
        onHeaders(res, () => {
          if (!req.session?.auth)
            res.clearCookie(config.sessionCookieName, {
              ...cookie,
              secure: req.secure,
            });
        });
      }
      next();
    });
  };
}
