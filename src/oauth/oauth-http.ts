/** RFC 6749 5.1: token answers are never cached. */
export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
