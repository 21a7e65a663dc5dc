import {
  SECURITY_EVENT_TYPES,
  type SecurityEventType,
} from '../events/security-event-types.js';
import { describeActivity, type ActivityEvent } from './activity.js';

function event(
  type: SecurityEventType,
  more: Partial<ActivityEvent> = {},
): ActivityEvent {
  return {
    type,
    ip: '203.0.113.7',
    device: 'Firefox on Windows',
    byAdmin: false,
    count: 1,
    details: {},
    ...more,
  };
}

describe('describeActivity', () => {
  it.each<[SecurityEventType, Partial<ActivityEvent>, string]>([
    ['login.succeeded', {}, 'Logged in from Firefox on Windows, 203.0.113.7'],
    ['login.succeeded', { ip: null }, 'Logged in from Firefox on Windows'],
    ['login.succeeded', { ip: null, device: null }, 'Logged in'],
    [
      'login.throttled',
      { count: 12 },
      '12 login attempts were slowed down after wrong passwords from Firefox on Windows, 203.0.113.7',
    ],
    ['login.ended', { byAdmin: true }, 'An administrator ended a login'],
    [
      'login.ended',
      { details: { by: 'revocation' }, device: 'curl', ip: null },
      'A client ended a login by revoking its token from curl',
    ],
    [
      'login.ended',
      {},
      'You ended a login from Firefox on Windows, 203.0.113.7',
    ],
    [
      'personal_token.created',
      { details: { name: 'ci', prefix: 'pat_AbCd' } },
      'Created the personal token “ci” (pat_AbCd…) from Firefox on Windows, 203.0.113.7',
    ],
    [
      'personal_token.revoked',
      { byAdmin: true, details: { name: 'ci' } },
      'An administrator revoked the personal token “ci”',
    ],
    [
      'admin.roles_changed',
      { byAdmin: true, details: { old: ['user'], new: ['user', 'admin'] } },
      'An administrator changed your roles from user to user, admin',
    ],
  ])('says %s (%j) as “%s”', (type, more, sentence) => {
    expect(describeActivity(event(type, more))).toBe(sentence);
  });

  it.each(SECURITY_EVENT_TYPES)('has words for %s', (type) => {
    expect(describeActivity(event(type))).toMatch(/^[A-Z0-9]/);
  });
});
