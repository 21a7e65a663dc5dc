import { loadConfig } from '../infra/config/app-config.js';
import { PasswordHasher } from './password-hasher.js';

const password = 'cobalt-harbour-sunrise-19';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher(loadConfig({}, false));

  it('hashes with argon2id at the configured cost, as a PHC string with its own salt', async () => {
    const [a, b] = await Promise.all([
      hasher.hash(password),
      hasher.hash(password),
    ]);
    expect(a).toMatch(
      /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
    );
    expect(a).not.toBe(b);
  });

  it('verifies the right password and refuses a wrong one, with no rehash at the same cost', async () => {
    const stored = await hasher.hash(password);
    await expect(hasher.verify(password, stored)).resolves.toEqual({
      valid: true,
      rehash: false,
    });
    await expect(hasher.verify(`${password}x`, stored)).resolves.toMatchObject({
      valid: false,
    });
  });

  it('asks for a rehash of a hash weaker than the configured cost', async () => {
    const stronger = new PasswordHasher(
      loadConfig(
        { PASSWORD_HASH_MEMORY_KIB: '24576', PASSWORD_HASH_ITERATIONS: '3' },
        false,
      ),
    );
    const weak = await hasher.hash(password);
    await expect(stronger.verify(password, weak)).resolves.toEqual({
      valid: true,
      rehash: true,
    });
    const strong = await stronger.hash(password);
    expect(strong).toMatch(/^\$argon2id\$v=19\$m=24576,t=3,p=1\$/);
    // A stronger stored hash than configured is kept: lowering the cost never weakens hashes.
    await expect(hasher.verify(password, strong)).resolves.toEqual({
      valid: true,
      rehash: false,
    });
  });

  it.each([
    ['an empty string', ''],
    ['garbage', 'not-a-hash'],
    ['a truncated PHC string', '$argon2id$v=19$m=19456,t=2,p=1$'],
    ['a malformed scrypt string', 'scrypt$1$1$1$AAAA'],
  ])('refuses any password against %s', async (_, stored) => {
    await expect(hasher.verify(password, stored)).resolves.toMatchObject({
      valid: false,
    });
  });

  it('spends a real argon2id verification on the dummy check', async () => {
    await expect(hasher.verifyDummy(password)).resolves.toBe(false);
  });
});
