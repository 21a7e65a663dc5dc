import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { RequestHandler } from 'express';
import type { Server, ServerResponse } from 'node:http';
import onHeaders from 'on-headers';

/**
 * Closes keep-alive connections promptly on shutdown.
 *
 * `server.close()` closes the connections idle at that moment, but a connection whose
 * request is still running stays open after its answer until the keep-alive timeout (or the
 * client) ends it, and the process cannot exit meanwhile. Once draining, every answer
 * carries `Connection: close`, so Node closes its connection right after sending it and the
 * client opens no further request on it.
 */
@Injectable()
export class ConnectionDrain implements BeforeApplicationShutdown {
  // An object, so the shared header listener (whose `this` is the response) can read it.
  private readonly state = { draining: false };

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** Goes first: marks each answer whose headers are written once draining has begun. */
  middleware(): RequestHandler {
    const state = this.state;
    function closeWhenDraining(this: ServerResponse) {
      if (state.draining) this.setHeader('Connection', 'close');
    }
    return (_req, res, next) => {
      onHeaders(res, closeWhenDraining);
      next();
    };
  }

  /** From now on answers close their connections; idle keep-alive connections close at once. */
  begin(): void {
    if (this.state.draining) return;
    this.state.draining = true;
    const server = this.adapterHost.httpAdapter?.getHttpServer() as
      Server | undefined;
    server?.closeIdleConnections?.();
  }

  /** Nest's shutdown closes the HTTP server right after this hook. */
  beforeApplicationShutdown(): void {
    this.begin();
  }
}
