import { DrizzleQueryError } from 'drizzle-orm';
import {
  DatabaseNotReadyError,
  DatabaseTimeoutError,
  isDatabaseUnavailable,
  isUniqueViolation,
} from './database-errors.js';

function pgError(code: string, message = 'server said no'): Error {
  return Object.assign(new Error(message), { code });
}

describe('isDatabaseUnavailable', () => {
  it.each([
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
        code: 'ECONNREFUSED',
      }),
    ],
    [
      'a pool that waited too long',
      new Error('timeout exceeded when trying to connect'),
    ],
    [
      'a connection cut by a restart',
      new Error('Connection terminated unexpectedly'),
    ],
    ['a client-side query timeout', new Error('Query read timeout')],
    ['the admin shutdown of a backend (57P01)', pgError('57P01')],
    ['a server still starting (57P03)', pgError('57P03')],
    ['statement_timeout (57014)', pgError('57014')],
    ['a connection exception (08006)', pgError('08006')],
    ['too many connections (53300)', pgError('53300')],
    ['the deadline', new DatabaseTimeoutError(1500)],
    ['a schema not migrated yet', new DatabaseNotReadyError(new Error('x'))],
    [
      'a socket error from another realm',
      { message: 'read ECONNRESET', code: 'ECONNRESET' },
    ],
    [
      'a driver error wrapped by Drizzle',
      new DrizzleQueryError('select 1', [], pgError('57P01')),
    ],
  ])('recognises %s', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.each([
    ['a unique violation', pgError('23505')],
    ['a syntax error', pgError('42601')],
    ['a missing table', pgError('42P01')],
    ['a plain bug', new TypeError('x is undefined')],
    ['nothing', undefined],
  ])('does not take %s for an outage', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});

describe('isUniqueViolation', () => {
  it('recognises 23505, bare or wrapped by Drizzle', () => {
    expect(isUniqueViolation(pgError('23505'))).toBe(true);
    expect(
      isUniqueViolation(new DrizzleQueryError('insert', [], pgError('23505'))),
    ).toBe(true);
    expect(isUniqueViolation(pgError('23503'))).toBe(false);
  });
});
