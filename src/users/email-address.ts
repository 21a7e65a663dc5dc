/** Two spellings of one address: compared case-insensitively, as the unique index does. */
export function sameEmail(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && a.toLowerCase() === b.toLowerCase();
}

/**
 * An address as the security record keeps it: the first character of the local part and the
 * whole domain (`a***@example.com`). Enough for the owner to recognise it, not a copy of it.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}
