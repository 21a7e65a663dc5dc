import { DomainError } from '../infra/http/domain-error.js';
import type { LoginOutcome } from '../infra/metrics/metrics.service.js';
import { isRedisUnavailable } from '../infra/redis/redis-client.factory.js';

/** How a password login that threw ended, for the login counter. */
export function failedLoginOutcome(err: unknown): LoginOutcome {
  if (err instanceof DomainError) {
    if (err.code === 'invalid_grant') return 'invalid_credentials';
    if (err.code === 'too_many_attempts') return 'throttled';
    if (err.code === 'overloaded') return 'shed';
    if (err.code === 'store_unavailable' || err.code === 'database_unavailable')
      return 'unavailable';
    return 'error';
  }
  return isRedisUnavailable(err) ? 'unavailable' : 'error';
}
