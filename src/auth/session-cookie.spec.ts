import { sign } from 'cookie-signature';
import { sessionIdFromCookie } from './session-cookie.js';

const OLD = 'old-secret-0123456789-0123456789-abc';
const NEW = 'new-secret-0123456789-0123456789-xyz';
const ID = 'lz3k9a1b.' + 'A'.repeat(43);

/** A cookie header value as express-session writes it: `s:` + signed id, URL-encoded. */
const signed = (id: string, secret: string) =>
  encodeURIComponent(`s:${sign(id, secret)}`);

describe('sessionIdFromCookie', () => {
  it('is undefined without a Cookie header or without the session cookie', () => {
    expect(sessionIdFromCookie(undefined, 'session', [NEW])).toBeUndefined();
    expect(sessionIdFromCookie('', 'session', [NEW])).toBeUndefined();
    expect(
      sessionIdFromCookie('theme=dark; lang=en', 'session', [NEW]),
    ).toBeUndefined();
    // A cookie whose name only contains the session cookie's name is another cookie.
    expect(
      sessionIdFromCookie(`mysession=${signed(ID, NEW)}`, 'session', [NEW]),
    ).toBeUndefined();
  });

  it('reads the id signed with the current secret, among other cookies', () => {
    const header = `theme=dark; session=${signed(ID, NEW)}; lang=en`;
    expect(sessionIdFromCookie(header, 'session', [NEW, OLD])).toBe(ID);
  });

  it('still reads an id signed with an older secret that is still listed', () => {
    expect(
      sessionIdFromCookie(`session=${signed(ID, OLD)}`, 'session', [NEW, OLD]),
    ).toBe(ID);
  });

  it.each([
    ['a secret no longer listed', `session=${signed(ID, OLD)}`],
    ['an unsigned value', `session=${encodeURIComponent(ID)}`],
    [
      'a signature for another id',
      `session=${signed(ID, NEW).replace('A', 'B')}`,
    ],
    ['a truncated signature', `session=${signed(ID, NEW).slice(0, -3)}`],
    ['an empty value', 'session='],
    ['a bare s: prefix', 'session=s%3A'],
    ['broken percent-encoding', 'session=s%3A%E0%A4%A'],
  ])('is null for %s', (_, header) => {
    expect(sessionIdFromCookie(header, 'session', [NEW])).toBeNull();
  });

  it('uses the configured cookie name', () => {
    expect(
      sessionIdFromCookie(`__Host-sid=${signed(ID, NEW)}`, '__Host-sid', [NEW]),
    ).toBe(ID);
  });
});
