import type { Server } from 'node:http';
import request from 'supertest';

/** The Accept header of a browser navigating or posting a form. */
const HTML_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** A page as a browser loads it, with the session cookie when given. */
export function getPage(
  server: Server,
  path: string,
  cookie?: string,
): request.Test {
  const req = request(server)
    .get(path)
    .set('Accept', HTML_ACCEPT)
    .set('Sec-Fetch-Site', 'same-origin');
  return cookie ? req.set('Cookie', cookie) : req;
}

/** A form post as a browser sends it from one of this service's own pages. */
export function postForm(
  server: Server,
  path: string,
  cookie?: string,
): request.Test {
  const req = request(server)
    .post(path)
    .set('Accept', HTML_ACCEPT)
    .set('Sec-Fetch-Site', 'same-origin')
    .type('form');
  return cookie ? req.set('Cookie', cookie) : req;
}
