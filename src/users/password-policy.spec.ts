import { DomainError } from '../infra/http/domain-error.js';
import { assertPasswordPolicy, isCommonPassword } from './password-policy.js';

describe('password policy', () => {
  it.each(['password', 'Password1', '12345678', 'iloveyou', 'QWERTYUIOP'])(
    'knows %s as a common password',
    (p) => {
      expect(isCommonPassword(p)).toBe(true);
    },
  );

  it('accepts a long uncommon passphrase', () => {
    expect(() => assertPasswordPolicy('plum-orbit-tundra-47')).not.toThrow();
  });

  it.each([
    ['too short', 'a1b2c3d'],
    ['too long', 'x'.repeat(129)],
    ['common', 'password1'],
  ])('refuses a %s password with validation_failed', (_, password) => {
    expect(() => assertPasswordPolicy(password)).toThrow(DomainError);
  });

  it('counts characters, not UTF-16 units', () => {
    expect(() => assertPasswordPolicy('🔑'.repeat(8) + 'q')).not.toThrow();
  });
});
