import type { EventContext } from '../events/security-event.js';
import type { ClientInfo, Principal } from './principal.js';

/** An account acting for itself: its login (none for a personal token, which names no login). */
export function ownContext(
  principal: Principal,
  client: ClientInfo,
): EventContext {
  return {
    client,
    ...(principal.via !== 'personal_token' && { loginId: principal.loginId }),
  };
}

/** An admin acting on an account: the admin is the event's actor; the login is the admin's, not the account's. */
export function adminContext(
  admin: Principal,
  client: ClientInfo,
): EventContext {
  return { actorId: admin.userId, client };
}
