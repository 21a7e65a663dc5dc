/**
 * Every Redis key the service writes, in one place.
 *
 * Prefix `auth:`. Keys that one operation must touch together share a hash tag, so the
 * layout works on Redis Cluster:
 * - `{u:<userId>}`: that user's login records, the index of them and its login epoch.
 * Sessions, tokens, personal-token cache entries and login-throttle buckets stand on their own (each script touches one of
 * them at a time), so they spread over a cluster's slots. Sessions and tokens are keyed by the
 * SHA-256 of their secret. Accounts are not here: they live in PostgreSQL (src/infra/db).
 */
export const redisKeys = {
  /** express-session data, by SHA-256 of the session id. TTL: idle timeout, capped at the login's absolute expiry. */
  session: (sessionIdHash: string) => `auth:sess:${sessionIdHash}`,
  /** Access token record, by SHA-256 of the token. TTL: token lifetime, capped at the login's absolute expiry. */
  token: (tokenHash: string) => `auth:tok:${tokenHash}`,
  /**
   * Refresh token (JSON: user id, login id, issue and expiry times), by SHA-256 of the token.
   * Kept after rotation, so a rotated token presented again is recognised. TTL: the idle
   * timeout, capped at the login's absolute expiry.
   */
  refreshToken: (tokenHash: string) => `auth:rt:${tokenHash}`,
  /** The successor pair of a login's last rotation, encrypted under the old token. TTL: the grace window. */
  refreshGrace: (userId: string, loginId: string) =>
    `auth:{u:${userId}}:grace:${loginId}`,
  /** One login (hash): metadata, its session id hash and its token hashes. TTL: absolute expiry. */
  login: (userId: string, loginId: string) =>
    `auth:{u:${userId}}:login:${loginId}`,
  /** Sorted set of a user's login ids scored by absolute expiry (ms). TTL: the latest expiry. */
  logins: (userId: string) => `auth:{u:${userId}}:logins`,
  /**
   * The account's login epoch (a counter): raised whenever all its logins end (log out
   * everywhere, a password change, a disable), so a login whose password was checked before
   * is refused when it comes to be recorded. TTL: a day after the last raise.
   */
  loginEpoch: (userId: string) => `auth:{u:${userId}}:epoch`,
  /**
   * Cache of a personal access token (JSON: the principal's facts, or the tombstone of a
   * revoked or unknown token), by SHA-256 of the token. The token itself lives in PostgreSQL.
   * TTL: minutes, never beyond the token's expiry.
   */
  personalToken: (tokenHash: string) => `auth:pat:${tokenHash}`,
  /**
   * A token form of the account page that has been sent (value `1`), so a reload that sends
   * it again creates no second token. Under the user's tag. TTL: one day.
   */
  formSent: (userId: string, formId: string) =>
    `auth:{u:${userId}}:form-sent:${formId}`,
  /** Login-throttle bucket of one account (hash: count, last). TTL: the failure window. */
  loginFailuresOfAccount: (username: string) =>
    `auth:login-failures:account:${username.toLowerCase()}`,
  /** Login-throttle bucket of one client address (hash: count, last). TTL: the failure window. */
  loginFailuresOfAddress: (address: string) =>
    `auth:login-failures:address:${address}`,
  /**
   * Password-reset requests from one client address, counted in a fixed window (`minute` or
   * `hour`; both under the address's tag). TTL: the window.
   */
  passwordResetRequestsOfAddress: (address: string, window: ResetWindow) =>
    `auth:reset-requests:{address:${address}}:${window}`,
  /**
   * Password-reset requests naming one login (a username or an address, lower-cased), whether
   * or not an account has it, in a fixed window. TTL: the window.
   */
  passwordResetRequestsOfLogin: (login: string, window: ResetWindow) =>
    `auth:reset-requests:{login:${login.toLowerCase()}}:${window}`,
  /** Reset links mailed for one account, in a fixed window, under the user's tag. TTL: the window. */
  passwordResetMailsOfAccount: (userId: string, window: ResetWindow) =>
    `auth:{u:${userId}}:reset-mails:${window}`,
} as const;

/** The fixed windows the password-reset throttle counts in. */
export type ResetWindow = 'minute' | 'hour';
