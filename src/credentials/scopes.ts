import { DomainError } from '../infra/http/domain-error.js';
import type { Role } from '../users/user.js';

/** What a bearer token may be used for (RFC 6749 3.3). A session has every scope its roles allow. */
export const SCOPES = {
  profile: 'Read your account (GET /admin/me)',
  logins: 'List and end your logins, log out everywhere',
  account:
    'Change your password; create, list and revoke personal access tokens',
  admin: 'Administer users and read /metrics (admin accounts only)',
} as const;

export type Scope = keyof typeof SCOPES;
export const SCOPE_NAMES = Object.keys(SCOPES) as Scope[];

/** Every scope an account with these roles may hold. */
export function scopesForRoles(roles: readonly Role[]): Scope[] {
  return SCOPE_NAMES.filter(
    (scope) => scope !== 'admin' || roles.includes('admin'),
  );
}

/**
 * The `scope` parameter: space-delimited scope names, or undefined when absent or empty.
 * An unknown name is `invalid_scope`.
 */
export function parseScope(raw: string | undefined): Scope[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const names = [...new Set(raw.split(' ').filter((n) => n.length > 0))];
  const unknown = names.filter((n) => !Object.hasOwn(SCOPES, n));
  if (unknown.length > 0)
    throw new DomainError(
      'invalid_scope',
      `Unknown scope: ${unknown.slice(0, 3).join(' ').slice(0, 100)}`,
    );
  return names as Scope[];
}

/** What a login is granted: the requested scopes the roles allow, or all of those when none was asked for. */
export function grantScope(
  requested: readonly Scope[] | undefined,
  roles: readonly Role[],
): Scope[] {
  const allowed = scopesForRoles(roles);
  if (!requested) return allowed;
  return allowed.filter((scope) => requested.includes(scope));
}

/** A refresh may narrow the scope of its access token, never widen it. */
export function narrowScope(
  requested: readonly Scope[] | undefined,
  granted: readonly Scope[],
): Scope[] {
  if (!requested) return [...granted];
  const extra = requested.filter((scope) => !granted.includes(scope));
  if (extra.length > 0)
    throw new DomainError(
      'invalid_scope',
      `Not granted to this login: ${extra.join(' ')}`,
    );
  return SCOPE_NAMES.filter((scope) => requested.includes(scope));
}

export function formatScope(scopes: readonly Scope[]): string {
  return scopes.join(' ');
}
