import type { Role } from '../users/user.js';
import type { Scope } from './scopes.js';

/** Who is calling, and through which credential. */
export interface Principal {
  userId: string;
  username: string;
  roles: Role[];
  /** For a personal access token, `pat:<token id>`: it names no login. */
  loginId: string;
  /** When the account was created; immutable, so it can be carried by the credential. */
  userCreatedAt: string;
  /** What the credential may be used for: a session has every scope its roles allow. */
  scopes: Scope[];
  via: 'session' | 'bearer' | 'personal_token';
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
  scope: Scope[];
  /** Epoch ms, for introspection. */
  issuedAt: number;
  expiresAt: number;
}

/** Who a login is for: what its tokens carry, so minting one needs no account lookup. */
export interface LoginUser {
  id: string;
  username: string;
  roles: Role[];
  createdAt: string;
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
  /** The scopes granted at login, space-separated. */
  scope: string;
}
