import type { Role } from '../users/user.js';

/** Who is calling, and through which credential. */
export interface Principal {
  userId: string;
  username: string;
  roles: Role[];
  loginId: string;
  /** When the account was created; immutable, so it can be carried by the credential. */
  userCreatedAt: string;
  via: 'session' | 'bearer';
}

/**
 * What an access token's record holds; keyed by the token's hash. Everything a protected
 * request needs, so checking a token is one read.
 */
export interface TokenRecord {
  userId: string;
  username: string;
  roles: Role[];
  loginId: string;
  userCreatedAt: string;
}

export interface ClientInfo {
  userAgent: string;
  ip: string;
}

export interface LoginRecord {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string;
  ip: string;
}
