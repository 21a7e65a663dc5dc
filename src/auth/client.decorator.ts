import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { ClientInfo } from '../credentials/principal.js';

/** Where the request came from: its address (as TRUST_PROXY reads it) and user agent. */
export function clientOf(req: Request): ClientInfo {
  return { userAgent: req.get('user-agent') ?? '', ip: req.ip ?? '' };
}

/** The request's `ClientInfo`, for the services that record what a client did. */
export const Client = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): ClientInfo =>
    clientOf(ctx.switchToHttp().getRequest<Request>()),
);
