import { loadConfig } from '../infra/config/app-config.js';
import { MailCipher } from './mail-cipher.js';

const OLD = 'an-old-session-secret-of-at-least-32-chars';
const NEW = 'a-new-session-secret-of-at-least-32-chars!';
const ID = '0b9d2d3e-8f43-4b8a-9d7c-5b0e6a3f1c2d';
const CONTENT = {
  subject: 'Auth: Reset your password',
  text: 'https://id.example.com/auth/reset?token=very-secret-token',
  html: '<a href="https://id.example.com/auth/reset?token=very-secret-token">',
};

const cipher = (secrets: string) =>
  new MailCipher(loadConfig({ SESSION_SECRET: secrets }));

describe('MailCipher', () => {
  it('opens what it sealed, and the sealed payload shows nothing of it', () => {
    const sealed = cipher(OLD).seal(ID, 'a@example.com', CONTENT);
    const bytes = Buffer.from(sealed.payload, 'base64url');
    expect(bytes.toString('latin1')).not.toContain('very-secret-token');
    expect(sealed.payload).not.toContain('very-secret-token');
    expect(
      cipher(OLD).open({ id: ID, recipient: 'a@example.com', ...sealed }),
    ).toEqual(CONTENT);
  });

  it('seals the same content differently each time (a fresh IV)', () => {
    const c = cipher(OLD);
    expect(c.seal(ID, 'a@example.com', CONTENT).payload).not.toBe(
      c.seal(ID, 'a@example.com', CONTENT).payload,
    );
  });

  it('seals under the first secret and opens under any listed one', () => {
    const sealedOld = cipher(OLD).seal(ID, 'a@example.com', CONTENT);
    const rotated = cipher(`${NEW},${OLD}`);
    expect(
      rotated.open({ id: ID, recipient: 'a@example.com', ...sealedOld }),
    ).toEqual(CONTENT);
    const sealedNew = rotated.seal(ID, 'a@example.com', CONTENT);
    expect(sealedNew.keyId).not.toBe(sealedOld.keyId);
    expect(
      cipher(NEW).open({ id: ID, recipient: 'a@example.com', ...sealedNew }),
    ).toEqual(CONTENT);
  });

  it('opens nothing without the secret, for another row or another recipient, or once altered', () => {
    const sealed = cipher(OLD).seal(ID, 'a@example.com', CONTENT);
    const row = { id: ID, recipient: 'a@example.com', ...sealed };
    expect(cipher(NEW).open(row)).toBeUndefined();
    expect(
      cipher(OLD).open({ ...row, id: '1b9d2d3e-8f43-4b8a-9d7c-5b0e6a3f1c2d' }),
    ).toBeUndefined();
    expect(
      cipher(OLD).open({ ...row, recipient: 'attacker@example.com' }),
    ).toBeUndefined();
    const bytes = Buffer.from(row.payload, 'base64url');
    bytes[bytes.length - 1] ^= 1;
    expect(
      cipher(OLD).open({ ...row, payload: bytes.toString('base64url') }),
    ).toBeUndefined();
  });
});
