import { DomainError } from '../infra/http/domain-error.js';
import { failedLoginOutcome } from './login-outcome.js';

describe('failedLoginOutcome', () => {
  it.each([
    [
      'a wrong password, unknown user or disabled account',
      new DomainError('invalid_grant', 'Invalid username or password'),
      'invalid_credentials',
    ],
    [
      'a refusal by the failed-login throttle',
      new DomainError('too_many_attempts', 'Too many failed logins', {
        retryAfterSeconds: 2,
      }),
      'throttled',
    ],
    [
      'a login shed because hashing was saturated',
      new DomainError('overloaded', 'Too many logins at once', {
        retryAfterSeconds: 2,
      }),
      'shed',
    ],
    [
      'the database-unavailable answer',
      new DomainError('database_unavailable', 'The database is unavailable'),
      'unavailable',
    ],
    [
      'the store-unavailable answer',
      new DomainError('store_unavailable', 'The session store is unavailable'),
      'unavailable',
    ],
    ['a Redis command timeout', new Error('Command timed out'), 'unavailable'],
    [
      'a Redis connection that is down',
      new Error(
        "Stream isn't writeable and enableOfflineQueue options is false",
      ),
      'unavailable',
    ],
    [
      'a login ended while its token was issued',
      new DomainError('unauthenticated', 'The login has ended'),
      'error',
    ],
    ['a programming error', new TypeError('x is not a function'), 'error'],
  ])('counts %s as %p', (_, err, outcome) => {
    expect(failedLoginOutcome(err)).toBe(outcome);
  });
});
