import type { Role } from '../users/user.js';

/** Who is calling, and through which credential. */
export interface Principal {
  userId: string;
  username: string;
  roles: Role[];
  loginId: string;
  via: 'session' | 'bearer';
}

/** What an access token's record holds; keyed by the token's hash. */
export interface TokenRecord {
  userId: string;
  username: string;
  roles: Role[];
  loginId: string;
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
