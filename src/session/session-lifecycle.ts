import type { Request } from 'express';
import { promisify } from 'node:util';

/** Replaces the request's session with a fresh one under a new id (fixation defence). */
export function regenerateSession(req: Request): Promise<void> {
  return promisify(req.session.regenerate.bind(req.session))();
}

export async function saveSession(req: Request): Promise<void> {
  await promisify(req.session.save.bind(req.session))();
}

/** True for a browser form post: the client prefers an HTML page to JSON. */
export function prefersHtml(req: Request): boolean {
  return req.accepts(['application/json', 'text/html']) === 'text/html';
}
