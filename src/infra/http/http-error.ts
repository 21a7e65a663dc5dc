import { HttpException, Logger } from '@nestjs/common';
import {
  DATABASE_UNAVAILABLE,
  isDatabaseUnavailable,
} from '../db/database-errors.js';
import { isRedisUnavailable } from '../redis/redis-client.factory.js';
import { DomainError } from './domain-error.js';
import { AUTH_REALM, HTTP_ERRORS } from './http-errors.js';

const RETRY_AFTER_UNAVAILABLE_SECONDS = 1;
const logger = new Logger('Errors');

/** What a request gets when Redis is down or does not answer in time. */
export const STORE_UNAVAILABLE = new DomainError(
  'store_unavailable',
  'The session store is unavailable',
);

export interface HttpError {
  status: number;
  /** The error code, also the body's `error`. */
  code: string;
  body: object;
  headers: Record<string, string>;
}

/** Errors from body parsing and other middleware carry an http-errors status. */
function clientErrorStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown; statusCode?: unknown } | null)
    ?.status;
  return typeof status === 'number' && status >= 400 && status < 500
    ? status
    : undefined;
}

/**
 * The one mapping from errors to HTTP, for the exception filter and for middleware. Bodies
 * never carry stack traces; unexpected errors are logged server-side and answered with a
 * bare 500.
 */
export function toHttpError(exception: unknown): HttpError {
  if (exception instanceof DomainError) return fromDomainError(exception);
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? response.message
        : exception.message;
    const headers: Record<string, string> =
      status === 401
        ? { 'WWW-Authenticate': `Bearer realm="${AUTH_REALM}"` }
        : {};
    const code = httpErrorName(status);
    return {
      status,
      code,
      body: { statusCode: status, error: code, message },
      headers,
    };
  }
  const clientStatus = clientErrorStatus(exception);
  if (clientStatus !== undefined) {
    const message =
      clientStatus === 413 ? 'Request body too large' : 'Malformed request';
    const code = httpErrorName(clientStatus);
    return {
      status: clientStatus,
      code,
      body: { statusCode: clientStatus, error: code, message },
      headers: {},
    };
  }
  if (isDatabaseUnavailable(exception)) {
    logger.warn(`Database unavailable: ${(exception as Error).message}`);
    return fromDomainError(DATABASE_UNAVAILABLE);
  }
  if (isRedisUnavailable(exception)) {
    logger.warn(`Store unavailable: ${(exception as Error).message}`);
    return fromDomainError(STORE_UNAVAILABLE);
  }
  logger.error(
    exception instanceof Error
      ? (exception.stack ?? exception.message)
      : String(exception),
  );
  return {
    status: 500,
    code: 'internal_error',
    body: {
      statusCode: 500,
      error: 'internal_error',
      message: 'Internal server error',
    },
    headers: {},
  };
}

function fromDomainError(error: DomainError): HttpError {
  const mapping = HTTP_ERRORS[error.code];
  const headers: Record<string, string> = {};
  if (mapping.challenge)
    headers['WWW-Authenticate'] = error.details.scope
      ? `${mapping.challenge}, scope="${error.details.scope}"`
      : mapping.challenge;
  if (error.details.retryAfterSeconds !== undefined) {
    headers['Retry-After'] = String(error.details.retryAfterSeconds);
  } else if (mapping.status === 503) {
    headers['Retry-After'] = String(RETRY_AFTER_UNAVAILABLE_SECONDS);
  }
  if (mapping.oauth) {
    headers['Cache-Control'] = 'no-store';
    headers['Pragma'] = 'no-cache';
    return {
      status: mapping.status,
      code: error.code,
      body: { error: error.code, error_description: error.message },
      headers,
    };
  }
  const body: Record<string, unknown> = {
    statusCode: mapping.status,
    error: error.code,
    message: error.message,
  };
  if (error.details.fields) body.details = error.details.fields;
  return { status: mapping.status, code: error.code, body, headers };
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
