import { DomainError } from '../infra/http/domain-error.js';
import { parseTokenRequest, type PasswordGrant } from './token-request.js';

/** The password grant a body is read as; fails for any other grant. */
function parsePasswordGrant(body: unknown): PasswordGrant {
  const request = parseTokenRequest(body);
  if (request.grant !== 'password') throw new Error(`read as ${request.grant}`);
  return request;
}

/** The DomainError code parsePasswordGrant throws for `body`; fails when it throws none. */
function errorCode(body: unknown): string {
  try {
    parseTokenRequest(body);
  } catch (err) {
    if (err instanceof DomainError) return err.code;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

describe('parsePasswordGrant', () => {
  it('reads username and password of a password grant', () => {
    expect(
      parsePasswordGrant({
        grant_type: 'password',
        username: 'alice',
        password: 'secret pass',
      }),
    ).toEqual({
      grant: 'password',
      username: 'alice',
      password: 'secret pass',
    });
  });

  it('treats an omitted or empty grant_type as the password grant', () => {
    expect(parsePasswordGrant({ username: 'alice', password: 'pw' })).toEqual({
      grant: 'password',
      username: 'alice',
      password: 'pw',
    });
    expect(
      parsePasswordGrant({ grant_type: '', username: 'alice', password: 'pw' }),
    ).toEqual({ grant: 'password', username: 'alice', password: 'pw' });
  });

  it('reads scope and ignores client_id, client_secret and unknown parameters', () => {
    expect(
      parsePasswordGrant({
        grant_type: 'password',
        username: 'alice',
        password: 'pw',
        scope: 'profile  logins profile',
        client_id: 'ui',
        client_secret: 's',
        extra: 'x',
      }),
    ).toEqual({
      grant: 'password',
      username: 'alice',
      password: 'pw',
      scope: ['profile', 'logins'],
    });
  });

  it('refuses an unknown scope name as invalid_scope', () => {
    expect(
      errorCode({ username: 'alice', password: 'pw', scope: 'profile write' }),
    ).toBe('invalid_scope');
    expect(
      errorCode({ username: 'alice', password: 'pw', scope: 'toString' }),
    ).toBe('invalid_scope');
  });

  it('reads a refresh grant, with an optional narrower scope', () => {
    expect(
      parseTokenRequest({ grant_type: 'refresh_token', refresh_token: 'r' }),
    ).toEqual({ grant: 'refresh_token', refreshToken: 'r' });
    expect(
      parseTokenRequest({
        grant_type: 'refresh_token',
        refresh_token: 'r',
        scope: 'profile',
      }),
    ).toEqual({
      grant: 'refresh_token',
      refreshToken: 'r',
      scope: ['profile'],
    });
    expect(errorCode({ grant_type: 'refresh_token' })).toBe('invalid_request');
  });

  it('returns only username and password, never other fields', () => {
    const grant = parsePasswordGrant({
      username: 'alice',
      password: 'pw',
      roles: 'admin',
    });
    expect(Object.keys(grant).sort()).toEqual([
      'grant',
      'password',
      'scope',
      'username',
    ]);
  });

  it('keeps the password exactly as sent, spaces included', () => {
    expect(
      parsePasswordGrant({ username: 'alice', password: '  padded  ' })
        .password,
    ).toBe('  padded  ');
  });

  it.each([
    ['client_credentials'],
    ['authorization_code'],
    ['Password'],
    ['password '],
  ])('refuses grant_type=%p as unsupported_grant_type', (grantType) => {
    expect(
      errorCode({ grant_type: grantType, username: 'alice', password: 'pw' }),
    ).toBe('unsupported_grant_type');
  });

  it('checks the grant type before the credentials', () => {
    expect(errorCode({ grant_type: 'client_credentials' })).toBe(
      'unsupported_grant_type',
    );
  });

  it.each([
    ['no username', { password: 'pw' }],
    ['an empty username', { username: '', password: 'pw' }],
    ['no password', { username: 'alice' }],
    ['an empty password', { username: 'alice', password: '' }],
    ['nothing at all', {}],
  ])('refuses %s as invalid_request', (_, body) => {
    expect(errorCode(body)).toBe('invalid_request');
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'username=alice&password=pw'],
    ['a number', 42],
    ['an array', [{ username: 'alice', password: 'pw' }]],
  ])('refuses a body that is %s as invalid_request', (_, body) => {
    expect(errorCode(body)).toBe('invalid_request');
  });

  it.each([
    [
      'a repeated username (array)',
      { username: ['alice', 'bob'], password: 'pw' },
    ],
    ['a nested username (object)', { username: { $ne: 'x' }, password: 'pw' }],
    ['a number password', { username: 'alice', password: 1234 }],
    ['a null password', { username: 'alice', password: null }],
    [
      'a boolean grant type',
      { grant_type: true, username: 'alice', password: 'pw' },
    ],
    [
      'an object in an ignored field',
      { username: 'alice', password: 'pw', scope: { a: 1 } },
    ],
  ])('refuses %s as invalid_request', (_, body) => {
    expect(errorCode(body)).toBe('invalid_request');
  });

  it('refuses a field over 1024 characters and accepts one of exactly 1024', () => {
    expect(errorCode({ username: 'alice', password: 'p'.repeat(1025) })).toBe(
      'invalid_request',
    );
    expect(
      parsePasswordGrant({ username: 'alice', password: 'p'.repeat(1024) })
        .password,
    ).toHaveLength(1024);
  });

  it('names the offending parameter in the error message', () => {
    expect(() =>
      parsePasswordGrant({ username: ['a'], password: 'pw' }),
    ).toThrow(/username/);
    expect(() => parsePasswordGrant({ username: 'alice' })).toThrow(/password/);
  });

  it('never echoes the password in an error message', () => {
    try {
      parsePasswordGrant({ username: 'alice', password: 'p'.repeat(2000) });
    } catch (err) {
      expect((err as Error).message).not.toContain('pppp');
      return;
    }
    throw new Error('expected an error');
  });
});
