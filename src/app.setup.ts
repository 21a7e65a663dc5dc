import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  DocumentBuilder,
  SwaggerModule,
  type OpenAPIObject,
} from '@nestjs/swagger';
import { AppModule } from './app.module.js';
import {
  SWAGGER_COOKIE,
  SWAGGER_INTROSPECTION,
  SWAGGER_OAUTH2,
} from './auth/authenticated.decorator.js';
import { SCOPES } from './credentials/scopes.js';
import { ConnectionDrain } from './infra/http/connection-drain.js';
import { AppConfig, loadConfig } from './infra/config/app-config.js';
import { AppLogger } from './infra/logging/app-logger.js';
import { MetricsService } from './infra/metrics/metrics.service.js';
import { securityHeaders } from './infra/http/security-headers.js';
import {
  LOGIN_PATH,
  sessionReader,
  sessionWriter,
} from './auth/session.middleware.js';
import { SessionStore } from './credentials/session.store.js';

const DOCS_PATH = '/docs';

/** The OpenAPI document, built from the decorators. */
/**
 * The controller name an operation id was first published under: the `/auth` routes all came
 * from one AuthController before the login, OAuth2 and self-service routes got modules of
 * their own, and clients generated from the document keep their method names.
 */
function publishedController(controller: string, method: string): string {
  if (controller === 'LoginController' || controller === 'AccountController')
    return 'AuthController';
  if (controller === 'OAuthController' && method === 'token')
    return 'AuthController';
  return controller;
}

export function buildOpenApi(
  app: NestExpressApplication,
  config: AppConfig,
): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Session-or-bearer auth API')
    .setDescription(
      'Log in with the OAuth2 password grant at /auth/token (the Authorize button) or through the login page; ' +
        'a logged-in browser is authenticated by its session cookie, any other client by its bearer token.',
    )
    .setVersion('0.1.0')
    .addOAuth2(
      {
        type: 'oauth2',
        flows: {
          password: {
            tokenUrl: '/auth/token',
            refreshUrl: '/auth/token',
            scopes: { ...SCOPES },
          },
        },
      },
      SWAGGER_OAUTH2,
    )
    .addCookieAuth(
      config.sessionCookieName,
      { type: 'apiKey', in: 'cookie', name: config.sessionCookieName },
      SWAGGER_COOKIE,
    )
    .addBasicAuth(
      {
        type: 'http',
        scheme: 'basic',
        description: 'Resource servers listed in INTROSPECTION_CLIENTS',
      },
      SWAGGER_INTROSPECTION,
    )
    .build();
  return SwaggerModule.createDocument(app, builder, {
    operationIdFactory: (controller, method) =>
      `${publishedController(controller, method)}_${method}`,
  });
}

/** Middleware and docs: shared by production and the e2e tests. */
function configureApp(app: NestExpressApplication, config: AppConfig): void {
  app.useLogger(app.get(AppLogger));
  app.disable('x-powered-by');
  // Answers are per user and never cached (Cache-Control: no-store); an ETag would only cost a hash.
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);
  // First, so the request timing covers every other middleware. Absent when METRICS=off.
  const requestMetrics = app.get(MetricsService).requestMiddleware();
  if (requestMetrics) app.use(requestMetrics);
  // Shutdown: answers sent once it has begun close their keep-alive connections.
  app.use(app.get(ConnectionDrain).middleware());
  app.use(securityHeaders(DOCS_PATH));
  if (config.corsOrigins.length > 0) {
    // An exact list only: the cors package reflects a listed origin, never `*` with credentials.
    app.enableCors({
      origin: config.corsOrigins,
      credentials: true,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      maxAge: 600,
    });
  }
  const sessions = app.get(SessionStore);
  app.use(sessionReader(config, sessions));
  // Sessions are created at login and nowhere else.
  app.use(LOGIN_PATH, sessionWriter(config, sessions));
  SwaggerModule.setup(
    DOCS_PATH.slice(1),
    app,
    () => buildOpenApi(app, config),
    {
      jsonDocumentUrl: 'docs-json',
      yamlDocumentUrl: 'docs-yaml',
      swaggerOptions: { persistAuthorization: false, withCredentials: true },
    },
  );
}

export async function createApp(
  config: AppConfig = loadConfig(),
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config),
    // Reject instead of exiting the process, so the caller sees why (e.g. REDIS_URL unreachable).
    { bufferLogs: true, abortOnError: false },
  );
  configureApp(app, config);
  for (const warning of config.warnings) app.get(AppLogger).warn(warning);
  return app;
}
