import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import {
  createServer,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
import { AppConfig } from '../config/app-config.js';
import { MetricsService } from './metrics.service.js';

/**
 * /metrics on METRICS_PORT: a bare node:http server, without authentication, for a scraper on
 * a private network. It must not be reachable from outside. It opens when the app boots (a
 * port already taken fails the boot) and closes first on shutdown.
 */
@Injectable()
export class MetricsServer
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private server?: Server;

  constructor(
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { metrics } = this.config;
    if (!metrics.enabled || metrics.port === undefined) return;
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(metrics.port, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    new Logger('Metrics').log(`Serving /metrics on port ${metrics.port}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // A scraper keeps its connection alive; close() alone would wait for it.
      server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' })
        .end('Method Not Allowed\n');
      return;
    }
    this.metrics.scrape().then(
      (body) => {
        res.writeHead(200, {
          'Content-Type': this.metrics.contentType,
          'Cache-Control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        new Logger('Metrics').error(
          `Scrape failed: ${err instanceof Error ? err.message : String(err)}`,
        );
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end();
      },
    );
  }
}
