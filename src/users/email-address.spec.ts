import { maskEmail, sameEmail } from './email-address.js';

describe('maskEmail', () => {
  it.each([
    ['alice@example.com', 'a***@example.com'],
    ['A.B+tag@Sub.Example.org', 'A***@Sub.Example.org'],
    ['x@y.z', 'x***@y.z'],
  ])('keeps the first character and the domain of %s', (email, masked) => {
    expect(maskEmail(email)).toBe(masked);
  });

  it('shows nothing of a value that is no address', () => {
    expect(maskEmail('no-at-sign')).toBe('***');
  });
});

describe('sameEmail', () => {
  it('compares case-insensitively', () => {
    expect(sameEmail('Alice@Example.com', 'alice@example.COM')).toBe(true);
    expect(sameEmail('alice@example.com', 'alicia@example.com')).toBe(false);
  });

  it('never matches a missing address', () => {
    expect(sameEmail(null, null)).toBe(false);
    expect(sameEmail('a@b.c', null)).toBe(false);
  });
});
