export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: string;
  username: string;
  passwordHash: string;
  roles: Role[];
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  passwordChangedAt: string;
  /** The account's address, claimed or verified; null without one. */
  email: string | null;
  /** When `email` was verified (ISO 8601); null while it is only claimed. */
  emailVerifiedAt: string | null;
}

/** What the API may show of a user: never the hash. */
export interface PublicUser {
  id: string;
  username: string;
  roles: Role[];
  disabled: boolean;
  createdAt: string;
  email: string | null;
  emailVerified: boolean;
}

export function toPublicUser(user: User): PublicUser {
  return {
    id: user.id,
    username: user.username,
    roles: user.roles,
    disabled: user.disabled,
    createdAt: user.createdAt,
    email: user.email,
    emailVerified: user.emailVerifiedAt !== null,
  };
}

export const USERNAME_PATTERN = /^[A-Za-z0-9._@-]{3,64}$/;
/** RFC 5321's longest path: no address is longer. */
export const EMAIL_MAX = 254;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
