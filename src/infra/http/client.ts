import { isIPv4 } from 'node:net';
import type { Request } from 'express';

/** Where a request came from, as recorded on a login or an event. */
export interface RequestClient {
  userAgent: string;
  ip: string;
}

const IPV4_MAPPED = /^::ffff:/i;

/**
 * An address as people write it: an IPv4 client of a dual-stack socket arrives IPv4-mapped
 * (`::ffff:203.0.113.7`) and is shown, stored and throttled as `203.0.113.7`.
 */
export function plainAddress(address: string): string {
  const unmapped = address.replace(IPV4_MAPPED, '');
  return unmapped !== address && isIPv4(unmapped) ? unmapped : address;
}

/** The request's client: its User-Agent and its address (`req.ip`, after `trust proxy`). */
export function clientOf(req: Request): RequestClient {
  return {
    userAgent: req.get('user-agent') ?? '',
    ip: plainAddress(req.ip ?? ''),
  };
}
