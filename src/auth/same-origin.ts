export interface OriginFacts {
  /** The Sec-Fetch-Site request header, if any. */
  secFetchSite?: string;
  /** The Origin request header, if any. */
  origin?: string;
  /** This service's own origin as the request reached it, e.g. `https://auth.example.com`. */
  ownOrigin: string;
  /** Extra origins trusted to send cookie-authenticated writes. */
  allowedOrigins: readonly string[];
}

/**
 * CSRF defence for requests that a browser authenticates by cookie: refuse what Fetch Metadata
 * marks as cross-site or same-site, and, for browsers without it, an Origin that is not ours
 * (`Origin: null` included). A request with neither header is not from a browser page.
 */
export function isSameOriginRequest(facts: OriginFacts): boolean {
  const origin = facts.origin?.toLowerCase();
  if (origin && origin !== 'null' && facts.allowedOrigins.includes(origin))
    return true;
  const site = facts.secFetchSite?.toLowerCase();
  if (site === 'cross-site' || site === 'same-site') return false;
  if (site === 'same-origin' || site === 'none') return true;
  if (origin === undefined) return true;
  return origin === facts.ownOrigin.toLowerCase();
}

export const SAFE_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
]);
