import {
  generatePersonalToken,
  isWellFormedPersonalToken,
  looksLikePersonalToken,
  PERSONAL_TOKEN_LENGTH,
  personalTokenChecksum,
  personalTokenDisplayPrefix,
} from './personal-token.js';

describe('personal token format', () => {
  it('is sbat_, 32 base62 characters and a 6-character checksum', () => {
    const token = generatePersonalToken();
    expect(token).toMatch(/^sbat_[0-9A-Za-z]{38}$/);
    expect(token).toHaveLength(PERSONAL_TOKEN_LENGTH);
    expect(token.slice(-6)).toBe(personalTokenChecksum(token.slice(0, -6)));
    expect(isWellFormedPersonalToken(token)).toBe(true);
  });

  it('is random every time', () => {
    const tokens = new Set(
      Array.from({ length: 1000 }, () => generatePersonalToken()),
    );
    expect(tokens.size).toBe(1000);
  });

  it('uses every base62 character in the random part', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++)
      for (const c of generatePersonalToken().slice(5, 37)) seen.add(c);
    expect(seen.size).toBe(62);
  });

  it('refuses a token with one character mistyped', () => {
    const token = generatePersonalToken();
    for (let i = 5; i < token.length; i++) {
      const c = token[i] === 'a' ? 'b' : 'a';
      const typo = token.slice(0, i) + c + token.slice(i + 1);
      expect({ i, ok: isWellFormedPersonalToken(typo) }).toEqual({
        i,
        ok: false,
      });
    }
  });

  it('refuses two adjacent characters swapped', () => {
    const token = generatePersonalToken();
    for (let i = 5; i < token.length - 1; i++) {
      if (token[i] === token[i + 1]) continue;
      const swapped =
        token.slice(0, i) + token[i + 1] + token[i] + token.slice(i + 2);
      expect(isWellFormedPersonalToken(swapped)).toBe(false);
    }
  });

  it.each([
    ['empty', ''],
    ['the prefix alone', 'sbat_'],
    ['one character short', () => generatePersonalToken().slice(0, -1)],
    ['one character long', () => `${generatePersonalToken()}0`],
    ['another prefix', () => `sbxt_${generatePersonalToken().slice(5)}`],
    ['upper-case prefix', () => `SBAT_${generatePersonalToken().slice(5)}`],
    [
      'a base64url character',
      () =>
        `${generatePersonalToken().slice(0, 10)}-${generatePersonalToken().slice(11)}`,
    ],
    ['trailing whitespace', () => `${generatePersonalToken()} `],
    ['a trailing newline', () => `${generatePersonalToken()}\n`],
  ])('refuses %s', (_, value) => {
    const token = typeof value === 'function' ? value() : value;
    expect(isWellFormedPersonalToken(token)).toBe(false);
  });

  it('pads the checksum to six characters', () => {
    // CRC32 values below 62^5 still give six characters.
    for (let i = 0; i < 2000; i++)
      expect(personalTokenChecksum(`sbat_${i}`)).toMatch(/^[0-9A-Za-z]{6}$/);
  });

  it('tells a personal token from an access token by its prefix', () => {
    expect(looksLikePersonalToken(generatePersonalToken())).toBe(true);
    expect(looksLikePersonalToken('sbat_garbage')).toBe(true);
    expect(looksLikePersonalToken('a'.repeat(43))).toBe(false);
  });

  it('shows the prefix and four characters of the secret, no more', () => {
    const token = generatePersonalToken();
    expect(personalTokenDisplayPrefix(token)).toBe(token.slice(0, 9));
  });
});
