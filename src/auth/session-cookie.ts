import { parse } from 'cookie';
import { unsign } from 'cookie-signature';

/**
 * The session id in a request's Cookie header, read exactly as express-session reads it:
 * `s:<id>.<HMAC-SHA256>`, URL-encoded, valid under any of the secrets (newest first, so a
 * secret can be rotated).
 *
 * - `undefined`: the request has no session cookie;
 * - `null`: it has one, but unsigned or with a bad signature (forged, or signed with a
 *   retired secret);
 * - a string: the verified session id.
 */
export function sessionIdFromCookie(
  header: string | undefined,
  name: string,
  secrets: readonly string[],
): string | null | undefined {
  // Cheap test first: most anonymous requests carry no cookie at all.
  if (!header || !header.includes(name)) return undefined;
  const raw = parse(header)[name];
  if (raw === undefined) return undefined;
  if (!raw.startsWith('s:')) return null;
  for (const secret of secrets) {
    const id = unsign(raw.slice(2), secret);
    if (id !== false) return id;
  }
  return null;
}
