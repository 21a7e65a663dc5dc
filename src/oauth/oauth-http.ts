/** The bodies the OAuth2 endpoints read (RFC 6749 asks for forms; JSON is accepted too). */
export const FORM_AND_JSON = [
  'application/x-www-form-urlencoded',
  'application/json',
];

/** RFC 6749 5.1: token answers are never cached. */
export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
