/**
 * Every kind of security event, dotted and fixed: the one list (the README's table is checked
 * against it). A later feature adds its own here.
 */
export const SECURITY_EVENT_TYPES = [
  /** An account was created (registration, or the configured admin seeded at boot). */
  'account.registered',
  /** A password login succeeded; carries the new login's id. */
  'login.succeeded',
  /** A wrong password for an existing account (a login, or a re-entered current password). Unknown usernames are only counted. */
  'login.failed',
  /** Attempts refused by the login throttle: at most one row per account and minute, with the count. */
  'login.throttled',
  /** One login ended by its owner or an admin (`details.by`), or by revoking its refresh token. */
  'login.ended',
  /** A login ended itself (`POST /auth/logout`). */
  'logout',
  /** The account's owner ended every login. */
  'logout_all',
  /** A rotated refresh token was presented again; its login was ended. */
  'refresh.reuse_detected',
  /** The password was changed; every other login ended. */
  'password.changed',
  /** A reset link was asked for the account (by its username or verified address) and mailed. */
  'password.reset_requested',
  /** The password was set through a reset link; every login ended (`details`: what else was revoked). */
  'password.reset',
  /** A personal access token was created (id, shown prefix, name, scopes). */
  'personal_token.created',
  /** A change of the account's email address was asked for (`details.email`: the new address, masked like `a***@example.com`). */
  'email.change_requested',
  /** An email address was verified through its mailed link (`details.email`, masked). */
  'email.verified',
  /** The old address's "this wasn't me" link undid a change: the old address restored, every login ended. */
  'email.change_undone',
  /** A personal access token was revoked (`details.by`: owner, admin, account_disabled, revocation_endpoint, password_reset). */
  'personal_token.revoked',
  /** An admin changed the account's roles (old and new). */
  'admin.roles_changed',
  /** An admin disabled the account. */
  'admin.account_disabled',
  /** An admin enabled the account again. */
  'admin.account_enabled',
  /** An admin ended every login of the account. */
  'admin.logins_ended',
] as const;

export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];
