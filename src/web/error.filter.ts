import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { formErrorRedirect } from './browser-form.js';
import { toHttpError } from '../infra/http/http-error.js';

/**
 * Answers every error a route throws, through the one mapping (`toHttpError`); a browser form
 * post that failed is sent back to its page instead (the web module's form-error policy).
 */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    if (res.headersSent) return;
    const { status, code, body, headers } = toHttpError(exception);
    const redirect = formErrorRedirect(req, status, code);
    if (redirect) {
      res.set(headers).redirect(303, redirect);
      return;
    }
    res.status(status).set(headers).json(body);
  }
}
