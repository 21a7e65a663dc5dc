import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { ClientInfo } from '../credentials/principal.js';
import { clientOf } from '../infra/http/client.js';

/** The request's `ClientInfo` (its address as people write it, and its user agent), for the services that record what a client did. */
export const Client = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): ClientInfo =>
    clientOf(ctx.switchToHttp().getRequest<Request>()),
);
