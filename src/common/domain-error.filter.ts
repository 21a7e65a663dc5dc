import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { prefersHtml } from '../session/session-lifecycle.js';
import { LOGIN_PAGE_PATH } from '../views/login-page.js';
import { isRedisUnavailable } from '../redis/redis-client.factory.js';
import {
  DATABASE_UNAVAILABLE,
  isDatabaseUnavailable,
} from '../db/database-errors.js';
import { DomainError } from './domain-error.js';
import { AUTH_REALM, HTTP_ERRORS } from './http-errors.js';

const RETRY_AFTER_UNAVAILABLE_SECONDS = 1;
/** What a request gets when Redis is down or does not answer in time. */
export const STORE_UNAVAILABLE = new DomainError(
  'store_unavailable',
  'The session store is unavailable',
);
const REDIRECTED_STATUSES = new Set([400, 401, 409, 413, 415, 429, 503]);

/** Errors from body parsing and other middleware carry an http-errors status. */
function clientErrorStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown; statusCode?: unknown } | null)
    ?.status;
  return typeof status === 'number' && status >= 400 && status < 500
    ? status
    : undefined;
}

/**
 * The one place errors become HTTP. Bodies never carry stack traces; unexpected errors are
 * logged server-side and answered with a bare 500.
 */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    if (res.headersSent) return;
    const { status, body, headers } = this.toHttp(exception);
    // A person submitting a form sees the error on the login page, never raw JSON.
    // A refused cross-site write stays a plain 403.
    if (
      req.method === 'POST' &&
      REDIRECTED_STATUSES.has(status) &&
      prefersHtml(req)
    ) {
      const code = (body as { error?: string }).error ?? 'error';
      res
        .set(headers)
        .redirect(303, `${LOGIN_PAGE_PATH}?error=${encodeURIComponent(code)}`);
      return;
    }
    res.status(status).set(headers).json(body);
  }

  toHttp(exception: unknown): {
    status: number;
    body: object;
    headers: Record<string, string>;
  } {
    if (exception instanceof DomainError) {
      const mapping = HTTP_ERRORS[exception.code];
      const headers: Record<string, string> = {};
      if (mapping.challenge) headers['WWW-Authenticate'] = mapping.challenge;
      if (exception.details.retryAfterSeconds !== undefined) {
        headers['Retry-After'] = String(exception.details.retryAfterSeconds);
      } else if (mapping.status === 503) {
        headers['Retry-After'] = String(RETRY_AFTER_UNAVAILABLE_SECONDS);
      }
      if (mapping.oauth) {
        headers['Cache-Control'] = 'no-store';
        headers['Pragma'] = 'no-cache';
        return {
          status: mapping.status,
          body: { error: exception.code, error_description: exception.message },
          headers,
        };
      }
      const body: Record<string, unknown> = {
        statusCode: mapping.status,
        error: exception.code,
        message: exception.message,
      };
      if (exception.details.fields) body.details = exception.details.fields;
      return { status: mapping.status, body, headers };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'object' &&
        response !== null &&
        'message' in response
          ? response.message
          : exception.message;
      const headers: Record<string, string> =
        status === 401
          ? { 'WWW-Authenticate': `Bearer realm="${AUTH_REALM}"` }
          : {};
      return {
        status,
        body: { statusCode: status, error: httpErrorName(status), message },
        headers,
      };
    }
    const clientStatus = clientErrorStatus(exception);
    if (clientStatus !== undefined) {
      const message =
        clientStatus === 413 ? 'Request body too large' : 'Malformed request';
      return {
        status: clientStatus,
        body: {
          statusCode: clientStatus,
          error: httpErrorName(clientStatus),
          message,
        },
        headers: {},
      };
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`Database unavailable: ${(exception as Error).message}`);
      return this.toHttp(DATABASE_UNAVAILABLE);
    }
    if (isRedisUnavailable(exception)) {
      this.logger.warn(`Store unavailable: ${(exception as Error).message}`);
      return this.toHttp(STORE_UNAVAILABLE);
    }
    this.logger.error(
      exception instanceof Error
        ? (exception.stack ?? exception.message)
        : String(exception),
    );
    return {
      status: 500,
      body: {
        statusCode: 500,
        error: 'internal_error',
        message: 'Internal server error',
      },
      headers: {},
    };
  }
}

function httpErrorName(status: number): string {
  const names: Record<number, string> = {
    400: 'bad_request',
    401: 'unauthenticated',
    403: 'forbidden',
    404: 'not_found',
    405: 'method_not_allowed',
    409: 'conflict',
    413: 'payload_too_large',
    415: 'unsupported_media_type',
    429: 'too_many_attempts',
  };
  return names[status] ?? 'error';
}
