/** A dot-atom local part (RFC 5322 3.2.3; quoted local parts are not taken). */
const LOCAL =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** Host name labels, internationalised ones in their Unicode form too. */
const DOMAIN =
  /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?)*$/u;

/**
 * Why `value` is not one bare mail address (`name@example.com`), or undefined when it is one.
 * A line break gets its own answer: it is how a header is smuggled into a message.
 */
export function mailAddressProblem(value: string): string | undefined {
  if (/[\r\n]/.test(value)) return 'contains a line break';
  if (value.length > 254) return 'is longer than 254 characters';
  const at = value.lastIndexOf('@');
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (at < 1 || local.length > 64 || !LOCAL.test(local) || !DOMAIN.test(domain))
    return 'is not a single mail address such as name@example.com';
  return undefined;
}
