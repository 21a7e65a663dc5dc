import type { Request } from 'express';
import { promisify } from 'node:util';
import type { SessionAuth } from '../credentials/session-auth.js';

/** What a login needs of the HTTP session; the auth service never sees the request. */
export interface LoginSession {
  /** Replaces the request's session with a fresh one under a new id (fixation defence); the new id. */
  regenerate(): Promise<string>;
  /** Puts the login into the session and writes it to the store. */
  save(auth: SessionAuth): Promise<void>;
}

/** The express-session of a login request (mounted on the login route only), as a LoginSession. */
export function loginSessionOf(req: Request): LoginSession {
  return {
    async regenerate() {
      // Only logged-in sessions are ever stored: without one, there is nothing to destroy,
      // and a fresh id is all the fixation defence needs.
      if (req.session.auth)
        await promisify(req.session.regenerate.bind(req.session))();
      else req.sessionStore.generate(req);
      return req.sessionID;
    },
    async save(auth) {
      req.session.auth = auth;
      await promisify(req.session.save.bind(req.session))();
    },
  };
}
