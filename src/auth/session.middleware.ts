import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import onHeaders from 'on-headers';
import { STORE_UNAVAILABLE, toHttpError } from '../infra/http/http-error.js';
import type { AppConfig } from '../infra/config/app-config.js';
import { isRedisUnavailable } from '../infra/redis/redis-client.factory.js';
import { sessionIdFromCookie } from './session-cookie.js';
import { newSessionId } from '../credentials/session-id.js';
import { SessionStore } from '../credentials/session.store.js';
import '../credentials/session-auth.js';

/** The session cookie's attributes, shared by the login that sets it and the answers that clear it. */
const SESSION_COOKIE = {
  httpOnly: true,
  sameSite: 'lax' as const,
  path: '/',
};

/** Tells the browser to drop its session cookie, with the attributes it was set with. */
export function clearSessionCookie(
  req: Request,
  res: Response,
  name: string,
): void {
  res.clearCookie(name, { ...SESSION_COOKIE, secure: req.secure });
}

/**
 * 503 with Retry-After and nothing else: no Set-Cookie, so the client keeps its session.
 * Middleware errors do not reach Nest's filters; they use the same mapping.
 */
function answerStoreUnavailable(res: Response): void {
  const { status, body, headers } = toHttpError(STORE_UNAVAILABLE);
  res.status(status).set(headers).json(body);
}

/**
 * Authenticates every request that carries a session cookie, in one Redis command (a GETEX
 * that also slides the idle TTL), and never writes the session back: after login, ordinary
 * requests cannot rewrite or resurrect it. The session's auth state lands in
 * `req.sessionAuth`.
 *
 * A cookie whose session is gone (forged, expired, logged out) counts as no session and is
 * cleared in the response, unless that response logs in. Redis trouble answers 503 at once.
 */
export function sessionReader(
  config: AppConfig,
  store: SessionStore,
): RequestHandler {
  const { sessionCookieName: name, sessionSecrets: secrets } = config;
  const clearStaleCookie = (req: Request, res: Response) =>
    onHeaders(res, () => {
      if (!req.session?.auth)
        res.clearCookie(name, { ...SESSION_COOKIE, secure: req.secure });
    });
  return (req: Request, res: Response, next: NextFunction) => {
    const id = sessionIdFromCookie(req.headers.cookie, name, secrets);
    if (id === undefined) return next();
    if (id === null) {
      clearStaleCookie(req, res);
      return next();
    }
    store.readAuth(id).then(
      (auth) => {
        if (auth) {
          req.sessionAuth = auth;
          req.sessionID = id;
        } else clearStaleCookie(req, res);
        next();
      },
      // readAuth fails only when Redis does (a damaged entry reads as no session).
      () => answerStoreUnavailable(res),
    );
  };
}

/** The login route, the one place sessions are created. */
export const LOGIN_PATH = '/auth/token';

/**
 * express-session, which creates sessions: mounted on the login route (POST LOGIN_PATH)
 * only. It regenerates the id (fixation defence), writes the session once and sets the
 * signed cookie. A request that is already logged in skips it (the login route answers from
 * `req.sessionAuth`).
 */
export function sessionWriter(
  config: AppConfig,
  store: SessionStore,
): RequestHandler {
  const handler = session({
    name: config.sessionCookieName,
    secret: config.sessionSecrets,
    store,
    genid: () => newSessionId(config.sessionAbsoluteSeconds),
    resave: false,
    saveUninitialized: false,
    rolling: false,
    unset: 'destroy',
    proxy: config.trustProxy !== false,
    // Secure whenever the request arrived over HTTPS, directly or through a trusted proxy.
    cookie: { ...SESSION_COOKIE, secure: 'auto' },
  });
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST' || req.sessionAuth) return next();
    handler(req, res, (err?: unknown) => {
      if (!err) return next();
      // express-session reports a failed save at the end of a response through this same
      // callback, after the response has gone out: nothing is left to answer.
      if (res.headersSent) return;
      // Without a session object express-session would destroy the session when this
      // response ends (unset: 'destroy'); a store that failed to read must not lose it.
      delete (req as { sessionID?: string }).sessionID;
      if (isRedisUnavailable(err)) answerStoreUnavailable(res);
      else next(err);
    });
  };
}
