import type { Role } from '../users/user.js';

/** What a logged-in session holds. No secrets: the token is never stored in the session. */
export interface SessionAuth {
  userId: string;
  username: string;
  roles: Role[];
  loginId: string;
  /** When the account was created (immutable). */
  userCreatedAt: string;
  /** Absolute end of the login, epoch ms. */
  expiresAt: number;
}

declare module 'express-session' {
  interface SessionData {
    auth?: SessionAuth;
  }
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The logged-in session behind this request's cookie, set by the session reader. */
    sessionAuth?: SessionAuth;
  }
}
