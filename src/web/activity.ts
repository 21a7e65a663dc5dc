import type { SecurityEventType } from '../events/security-event-types.js';

/** An event as the account page gets it: the owner's view (GET /auth/events). */
export interface ActivityEvent {
  type: SecurityEventType;
  ip: string | null;
  device: string | null;
  byAdmin: boolean;
  count: number;
  details: Record<string, unknown>;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function roles(value: unknown): string {
  return Array.isArray(value) && value.length > 0
    ? value.map(String).join(', ')
    : 'none';
}

/** "from Firefox on Windows, 203.0.113.7", as much of it as is known. */
function origin(event: ActivityEvent): string {
  const parts = [event.device, event.ip].filter(
    (part): part is string => part !== null && part !== '',
  );
  return parts.length === 0 ? '' : ` from ${parts.join(', ')}`;
}

function token(event: ActivityEvent): string {
  const name = text(event.details.name);
  const prefix = text(event.details.prefix);
  if (name && prefix) return `personal token “${name}” (${prefix}…)`;
  return name ? `personal token “${name}”` : 'personal token';
}

function endedBy(event: ActivityEvent, what: string): string {
  if (event.byAdmin) return `An administrator ended ${what}`;
  if (event.details.by === 'revocation')
    return `A client ended ${what} by revoking its token${origin(event)}`;
  return `You ended ${what}${origin(event)}`;
}

const SENTENCES: Record<SecurityEventType, (event: ActivityEvent) => string> = {
  'account.registered': (e) => `Account created${origin(e)}`,
  'login.succeeded': (e) => `Logged in${origin(e)}`,
  'login.failed': (e) => `A wrong password was entered${origin(e)}`,
  'login.throttled': (e) =>
    `${e.count} login ${e.count === 1 ? 'attempt was' : 'attempts were'} slowed down after wrong passwords${origin(e)}`,
  'login.ended': (e) => endedBy(e, 'a login'),
  logout: (e) => `Logged out${origin(e)}`,
  logout_all: (e) => `Logged out everywhere${origin(e)}`,
  'refresh.reuse_detected': (e) =>
    `A used refresh token was presented again${origin(e)}; its login was ended`,
  'password.changed': (e) => `Password changed${origin(e)}`,
  'password.reset_requested': (e) =>
    `A password-reset link was mailed${origin(e)}`,
  'password.reset': (e) =>
    `Password reset through a mailed link${origin(e)}; every login was ended`,
  'personal_token.created': (e) => `Created the ${token(e)}${origin(e)}`,
  'personal_token.revoked': (e) =>
    e.byAdmin
      ? `An administrator revoked the ${token(e)}`
      : `Revoked the ${token(e)}${origin(e)}`,
  'email.change_requested': (e) =>
    `A change of your email address to ${text(e.details.email) ?? 'a new address'} was asked for${origin(e)}`,
  'email.verified': (e) =>
    `Verified the email address ${text(e.details.email) ?? 'of the account'}${origin(e)}`,
  'email.change_undone': (e) =>
    `An email change was undone from the old address's link${origin(e)}; every login ended`,
  'admin.roles_changed': (e) =>
    `An administrator changed your roles from ${roles(e.details.old)} to ${roles(e.details.new)}`,
  'admin.account_disabled': () => 'An administrator disabled the account',
  'admin.account_enabled': () => 'An administrator enabled the account',
  'admin.logins_ended': () => 'An administrator ended every login',
};

/** What happened, in plain words: "Logged in from Firefox on Windows, 203.0.113.7". */
export function describeActivity(event: ActivityEvent): string {
  return SENTENCES[event.type](event);
}
