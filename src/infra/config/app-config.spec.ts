import { ConfigError, loadConfig } from './app-config.js';

const SECRET = 'a-session-secret-of-at-least-32-chars!';
const OTHER_SECRET = 'another-session-secret-of-32-chars-plus';
const DATABASE_URL = 'postgres://auth@postgres:5432/auth';

/** The ConfigError that loadConfig throws for `env`; fails the test when it throws none. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  describe('defaults', () => {
    it('fills every setting for an empty development environment', () => {
      const config = loadConfig({});
      expect(config).toEqual(
        expect.objectContaining({
          production: false,
          port: 3000,
          redisUrl: undefined,
          sessionCookieName: 'session',
          sessionIdleSeconds: 900,
          sessionAbsoluteSeconds: 43_200,
          tokenTtlSeconds: 3600,
          trustProxy: false,
          logLevel: 'info',
          adminUsername: undefined,
          adminPassword: undefined,
          loginMaxWaitMs: 2000,
          passwordHash: { memoryKib: 19_456, iterations: 2 },
        }),
      );
    });

    it('makes up a random session secret in development and warns about it', () => {
      const a = loadConfig({});
      const b = loadConfig({});
      expect(a.sessionSecrets).toHaveLength(1);
      expect(a.sessionSecrets[0].length).toBeGreaterThanOrEqual(32);
      expect(a.sessionSecrets[0]).not.toBe(b.sessionSecrets[0]);
      expect(a.warnings.join('\n')).toContain('SESSION_SECRET');
    });

    it('warns about the embedded store when REDIS_URL is unset in development', () => {
      const config = loadConfig({ SESSION_SECRET: SECRET, DATABASE_URL });
      expect(config.redisUrl).toBeUndefined();
      expect(config.warnings).toHaveLength(1);
      expect(config.warnings[0]).toContain('REDIS_URL');
    });

    it('has no warnings for a complete configuration', () => {
      const config = loadConfig({
        REDIS_URL: 'redis://127.0.0.1:6379/0',
        SESSION_SECRET: SECRET,
        DATABASE_URL,
      });
      expect(config.warnings).toEqual([]);
    });

    it('treats empty values as unset', () => {
      const config = loadConfig({
        PORT: '',
        REDIS_URL: '',
        SESSION_COOKIE_NAME: '',
        SESSION_IDLE_SECONDS: '',
        TOKEN_TTL_SECONDS: '',
        LOG_LEVEL: '',
        TRUST_PROXY: '',
        ADMIN_USERNAME: '',
      });
      expect(config.port).toBe(3000);
      expect(config.redisUrl).toBeUndefined();
      expect(config.sessionCookieName).toBe('session');
      expect(config.sessionIdleSeconds).toBe(900);
      expect(config.tokenTtlSeconds).toBe(3600);
      expect(config.logLevel).toBe('info');
      expect(config.trustProxy).toBe(false);
      expect(config.adminUsername).toBeUndefined();
    });
  });

  describe('values it reads', () => {
    it('reads every setting', () => {
      const config = loadConfig({
        NODE_ENV: 'production',
        PORT: '8080',
        REDIS_URL: 'rediss://user:pw@redis.example.com:6380/2',
        DATABASE_URL,
        SESSION_SECRET: SECRET,
        SESSION_COOKIE_NAME: '__sid.v2',
        SESSION_IDLE_SECONDS: '60',
        SESSION_ABSOLUTE_SECONDS: '3600',
        TOKEN_TTL_SECONDS: '300',
        TRUST_PROXY: '2',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'pretty',
        ADMIN_USERNAME: 'root',
        ADMIN_PASSWORD: 'root password here',
        MAIL_URL: 'smtps://mailer:pw@smtp.example.com',
        MAIL_FROM: 'no-reply@example.com',
        PUBLIC_URL: 'https://auth.example.com',
        SERVICE_NAME: 'Example ID',
        MAIL_RETRY_FOR_SECONDS: '3600',
        MAIL_RETRY_BASE_MS: '1000',
      });
      expect(config).toEqual(
        expect.objectContaining({
          production: true,
          port: 8080,
          redisUrl: 'rediss://user:pw@redis.example.com:6380/2',
          sessionSecrets: [SECRET],
          sessionCookieName: '__sid.v2',
          sessionIdleSeconds: 60,
          sessionAbsoluteSeconds: 3600,
          tokenTtlSeconds: 300,
          trustProxy: 2,
          logLevel: 'warn',
          logFormat: 'pretty',
          adminUsername: 'root',
          adminPassword: 'root password here',
          mail: {
            enabled: true,
            transport: {
              kind: 'smtp',
              host: 'smtp.example.com',
              port: 465,
              secure: true,
              requireTls: false,
              user: 'mailer',
              password: 'pw',
            },
            from: 'no-reply@example.com',
            serviceName: 'Example ID',
            linkBase: 'https://auth.example.com',
            retryForSeconds: 3600,
            retryBaseMs: 1000,
          },
          warnings: [],
        }),
      );
    });

    it('reads SESSION_SECRET as a comma list: the first signs, all verify', () => {
      const config = loadConfig({
        SESSION_SECRET: `${SECRET},${OTHER_SECRET}`,
      });
      expect(config.sessionSecrets).toEqual([SECRET, OTHER_SECRET]);
    });

    it('trims SESSION_SECRET entries and drops empty ones', () => {
      const config = loadConfig({
        SESSION_SECRET: ` ${SECRET} ,, ${OTHER_SECRET} ,`,
      });
      expect(config.sessionSecrets).toEqual([SECRET, OTHER_SECRET]);
    });

    it.each([
      ['false', false],
      ['off', false],
      ['0', false],
      ['true', 1],
      ['1', 1],
      ['3', 3],
    ])('reads TRUST_PROXY=%s as %p', (raw, expected) => {
      expect(loadConfig({ TRUST_PROXY: raw }).trustProxy).toBe(expected);
    });

    it.each(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])(
      'accepts LOG_LEVEL=%s',
      (level) => {
        expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level);
      },
    );

    it.each(['json', 'pretty'])('accepts LOG_FORMAT=%s', (format) => {
      expect(loadConfig({ LOG_FORMAT: format }, true).logFormat).toBe(format);
      expect(loadConfig({ LOG_FORMAT: format }, false).logFormat).toBe(format);
    });

    it.each([
      [true, undefined, 'pretty'],
      [true, 'development', 'pretty'],
      [true, 'production', 'json'],
      [false, undefined, 'json'],
      [false, 'development', 'json'],
    ])(
      'defaults LOG_FORMAT, with stdout a terminal: %p and NODE_ENV=%p, to %s',
      (terminal, nodeEnv, expected) => {
        const config = loadConfig(
          {
            NODE_ENV: nodeEnv,
            REDIS_URL: 'redis://127.0.0.1:6379/0',
            DATABASE_URL: 'postgres://db.example.com/auth',
            SESSION_SECRET: SECRET,
            LOG_FORMAT: '',
            MAIL: 'off',
          },
          terminal,
        );
        expect(config.logFormat).toBe(expected);
      },
    );

    it('accepts the bounds of the numeric settings', () => {
      const low = loadConfig({
        PORT: '0',
        SESSION_IDLE_SECONDS: '1',
        SESSION_ABSOLUTE_SECONDS: '1',
        TOKEN_TTL_SECONDS: '1',
      });
      expect([low.port, low.sessionIdleSeconds, low.tokenTtlSeconds]).toEqual([
        0, 1, 1,
      ]);
      const high = loadConfig({ PORT: '65535', TOKEN_TTL_SECONDS: '31536000' });
      expect([high.port, high.tokenTtlSeconds]).toEqual([65535, 31_536_000]);
    });
  });

  describe('each bad value throws a ConfigError naming its variable', () => {
    it.each([
      ['PORT', 'abc'],
      ['PORT', '-1'],
      ['PORT', '65536'],
      ['PORT', '80.5'],
      ['PORT', ' 80'],
      ['SESSION_IDLE_SECONDS', '0'],
      ['SESSION_IDLE_SECONDS', '15m'],
      ['SESSION_IDLE_SECONDS', '31536001'],
      ['SESSION_ABSOLUTE_SECONDS', '0'],
      ['SESSION_ABSOLUTE_SECONDS', '1e3'],
      ['TOKEN_TTL_SECONDS', '0'],
      ['TOKEN_TTL_SECONDS', '-60'],
      ['TOKEN_TTL_SECONDS', 'forever'],
      ['TRUST_PROXY', 'yes'],
      ['TRUST_PROXY', '33'],
      ['TRUST_PROXY', '10.0.0.0/8'],
      ['LOG_LEVEL', 'loud'],
      ['LOG_LEVEL', 'INFO'],
      ['LOG_FORMAT', 'text'],
      ['LOG_FORMAT', 'JSON'],
      ['SESSION_COOKIE_NAME', 'bad name'],
      ['SESSION_COOKIE_NAME', 'semi;colon'],
      ['SESSION_COOKIE_NAME', 'x'.repeat(65)],
      ['REDIS_URL', 'not a url'],
      ['REDIS_URL', 'http://127.0.0.1:6379'],
      ['REDIS_URL', '127.0.0.1:6379'],
      ['SESSION_SECRET', 'short'],
      ['SESSION_SECRET', `${SECRET},short`],
      ['LOGIN_MAX_WAIT_MS', '0'],
      ['LOGIN_MAX_WAIT_MS', '2s'],
      ['PASSWORD_HASH_MEMORY_KIB', 'lots'],
      ['PASSWORD_HASH_ITERATIONS', '-2'],
    ])('%s=%p', (variable, value) => {
      const error = configError({ SESSION_SECRET: SECRET, [variable]: value });
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.variable).toBe(variable);
      expect(error.message).toContain(variable);
    });

    it.each([
      ['PASSWORD_HASH_MEMORY_KIB', '19455', 'at least 19456 KiB'],
      ['PASSWORD_HASH_MEMORY_KIB', '4096', 'at least 19456 KiB'],
      ['PASSWORD_HASH_ITERATIONS', '1', 'at least 2'],
      ['PASSWORD_HASH_ITERATIONS', '0', 'at least 2'],
    ])(
      "refuses %s=%s, under OWASP's floor for argon2id, naming the variable",
      (variable, value, floor) => {
        const error = configError({ [variable]: value });
        expect(error).toBeInstanceOf(ConfigError);
        expect(error.variable).toBe(variable);
        expect(error.message).toContain(variable);
        expect(error.message).toContain(floor);
        expect(error.message).toContain('OWASP');
      },
    );

    it('accepts a stronger argon2id cost than the floor', () => {
      expect(
        loadConfig({
          PASSWORD_HASH_MEMORY_KIB: '65536',
          PASSWORD_HASH_ITERATIONS: '3',
        }).passwordHash,
      ).toEqual({ memoryKib: 65_536, iterations: 3 });
    });

    it('does not put the rejected secret in the message', () => {
      const error = configError({ SESSION_SECRET: 'short-secret-value' });
      expect(error.message).not.toContain('short-secret-value');
    });
  });

  describe('production requirements (NODE_ENV=production)', () => {
    const complete = {
      NODE_ENV: 'production',
      REDIS_URL: 'redis://redis:6379/0',
      DATABASE_URL,
      SESSION_SECRET: SECRET,
      MAIL_URL: 'smtp://mailer:pw@smtp.example.com:587',
      MAIL_FROM: 'no-reply@example.com',
      PUBLIC_URL: 'https://auth.example.com',
    };

    it('accepts a complete production configuration', () => {
      const config = loadConfig(complete);
      expect(config.production).toBe(true);
      expect(config.warnings).toEqual([]);
    });

    it('requires REDIS_URL: no embedded store in production', () => {
      const error = configError({ ...complete, REDIS_URL: undefined });
      expect(error.variable).toBe('REDIS_URL');
      expect(error.message).toContain('REDIS_URL');
      expect(configError({ ...complete, REDIS_URL: '' }).variable).toBe(
        'REDIS_URL',
      );
    });

    it('requires DATABASE_URL: no embedded PGlite in production', () => {
      const error = configError({ ...complete, DATABASE_URL: undefined });
      expect(error.variable).toBe('DATABASE_URL');
      expect(error.message).toContain('NODE_ENV=production');
    });

    it('requires SESSION_SECRET: no random secret in production', () => {
      const error = configError({ ...complete, SESSION_SECRET: undefined });
      expect(error.variable).toBe('SESSION_SECRET');
      expect(configError({ ...complete, SESSION_SECRET: ' , ' }).variable).toBe(
        'SESSION_SECRET',
      );
    });

    it('still refuses a short secret in production', () => {
      expect(
        configError({ ...complete, SESSION_SECRET: 'short' }).variable,
      ).toBe('SESSION_SECRET');
    });

    it('requires an smtp:// or smtps:// MAIL_URL while MAIL is on: no file: or console: mail in production', () => {
      for (const MAIL_URL of [undefined, '', 'file:.data/mail', 'console:']) {
        const error = configError({ ...complete, MAIL_URL });
        expect(error.variable).toBe('MAIL_URL');
        expect(error.message).toContain('smtp://');
        expect(error.message).toContain('MAIL=off');
      }
    });

    it('requires MAIL_FROM and PUBLIC_URL while MAIL is on', () => {
      expect(configError({ ...complete, MAIL_FROM: undefined }).variable).toBe(
        'MAIL_FROM',
      );
      const error = configError({ ...complete, PUBLIC_URL: undefined });
      expect(error.variable).toBe('PUBLIC_URL');
      expect(error.message).toContain('MAIL is on');
    });

    it('needs no mail setting with MAIL=off', () => {
      const config = loadConfig({
        ...complete,
        MAIL: 'off',
        MAIL_URL: undefined,
        MAIL_FROM: undefined,
        PUBLIC_URL: undefined,
      });
      expect(config.mail).toEqual({ enabled: false });
    });

    it('treats other NODE_ENV values as development', () => {
      expect(loadConfig({ NODE_ENV: 'test' }).production).toBe(false);
      expect(loadConfig({ NODE_ENV: 'Production' }).production).toBe(false);
    });
  });
});

describe('loadConfig: REDIS_CLUSTER_NODES', () => {
  it('reads a comma-separated host:port seed list, trimming blanks', () => {
    const config = loadConfig({
      SESSION_SECRET: SECRET,
      REDIS_CLUSTER_NODES: ' redis-1:7000, 10.0.0.5:7001 ,,[::1]:7002',
    });
    expect(config.redisClusterNodes).toEqual([
      { host: 'redis-1', port: 7000 },
      { host: '10.0.0.5', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config.redisUrl).toBeUndefined();
  });

  it('uses a cluster instead of the embedded store, without the embedded-store warning', () => {
    const config = loadConfig({
      SESSION_SECRET: SECRET,
      DATABASE_URL,
      REDIS_CLUSTER_NODES: 'redis-1:7000',
    });
    expect(config.warnings).toEqual([]);
  });

  it('treats an empty value as unset', () => {
    for (const value of ['', '  ']) {
      const config = loadConfig({ REDIS_CLUSTER_NODES: value });
      expect(config.redisClusterNodes).toBeUndefined();
      expect(config.warnings.join('\n')).toContain('REDIS_URL');
    }
  });

  it.each([
    'redis-1',
    'redis-1:',
    ':7000',
    'redis-1:0',
    'redis-1:65536',
    'redis-1:70x',
    'redis://redis-1:7000',
    'redis-1:7000/0',
    'redis-1 7000',
    '::1:7000',
    ',',
    'redis-1:7000,bad',
  ])('refuses REDIS_CLUSTER_NODES=%p with a ConfigError naming it', (value) => {
    const error = configError({
      SESSION_SECRET: SECRET,
      REDIS_CLUSTER_NODES: value,
    });
    expect(error.variable).toBe('REDIS_CLUSTER_NODES');
    expect(error.message).toContain('REDIS_CLUSTER_NODES');
  });

  it('refuses REDIS_URL and REDIS_CLUSTER_NODES together, naming both', () => {
    const error = configError({
      SESSION_SECRET: SECRET,
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      REDIS_CLUSTER_NODES: '127.0.0.1:7000',
    });
    expect(error.message).toContain('REDIS_URL');
    expect(error.message).toContain('REDIS_CLUSTER_NODES');
  });

  it('accepts a cluster in place of REDIS_URL in production', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      SESSION_SECRET: SECRET,
      DATABASE_URL,
      REDIS_CLUSTER_NODES: 'redis-1:7000,redis-2:7000',
      MAIL: 'off',
    });
    expect(config.production).toBe(true);
    expect(config.redisClusterNodes).toHaveLength(2);
    expect(config.warnings).toEqual([]);
  });

  it('requires REDIS_URL or REDIS_CLUSTER_NODES in production, naming both', () => {
    const error = configError({
      NODE_ENV: 'production',
      SESSION_SECRET: SECRET,
      REDIS_CLUSTER_NODES: '',
    });
    expect(error.variable).toBe('REDIS_URL');
    expect(error.message).toContain('REDIS_URL');
    expect(error.message).toContain('REDIS_CLUSTER_NODES');
  });
});

describe('loadConfig: REDIS_SENTINELS and REDIS_SENTINEL_NAME', () => {
  const sentinels = {
    SESSION_SECRET: SECRET,
    REDIS_SENTINELS: ' sentinel-1:26379, 10.0.0.7:26380 ,,[::1]:26381',
    REDIS_SENTINEL_NAME: ' mymaster ',
  };

  it('reads the sentinels as a host:port list and the master name, trimmed', () => {
    const config = loadConfig(sentinels);
    expect(config.redisSentinels).toEqual({
      nodes: [
        { host: 'sentinel-1', port: 26379 },
        { host: '10.0.0.7', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      masterName: 'mymaster',
    });
    expect(config.redisUrl).toBeUndefined();
    expect(config.redisClusterNodes).toBeUndefined();
  });

  it('uses the sentinels instead of the embedded store, without the embedded-store warning', () => {
    expect(loadConfig({ ...sentinels, DATABASE_URL }).warnings).toEqual([]);
  });

  it('treats empty values as unset', () => {
    const config = loadConfig({
      REDIS_SENTINELS: ' ',
      REDIS_SENTINEL_NAME: '',
    });
    expect(config.redisSentinels).toBeUndefined();
    expect(config.warnings.join('\n')).toContain('REDIS_URL');
  });

  it('accepts sentinels in place of REDIS_URL in production', () => {
    const config = loadConfig({
      ...sentinels,
      DATABASE_URL,
      NODE_ENV: 'production',
      MAIL: 'off',
    });
    expect(config.production).toBe(true);
    expect(config.redisSentinels?.nodes).toHaveLength(3);
  });

  it('names REDIS_SENTINELS among the choices when production has no Redis setting', () => {
    const error = configError({
      NODE_ENV: 'production',
      SESSION_SECRET: SECRET,
    });
    expect(error.message).toContain('REDIS_SENTINELS');
  });

  it.each([
    'sentinel-1',
    'sentinel-1:',
    'sentinel-1:0',
    'redis://s:26379',
    ',',
  ])('refuses REDIS_SENTINELS=%p with a ConfigError naming it', (value) => {
    const error = configError({ ...sentinels, REDIS_SENTINELS: value });
    expect(error.variable).toBe('REDIS_SENTINELS');
    expect(error.message).toContain('REDIS_SENTINELS');
  });

  it.each([
    ['when unset', undefined],
    ['when empty', ''],
    ['holding a space', 'my master'],
    ['longer than 128 characters', 'm'.repeat(129)],
    ['holding a slash', 'a/b'],
  ])('refuses a master name %s', (_, name) => {
    const error = configError({ ...sentinels, REDIS_SENTINEL_NAME: name });
    expect(error.variable).toBe('REDIS_SENTINEL_NAME');
    expect(error.message).toContain('REDIS_SENTINELS');
  });

  it('refuses REDIS_SENTINEL_NAME without REDIS_SENTINELS', () => {
    const error = configError({
      SESSION_SECRET: SECRET,
      REDIS_SENTINEL_NAME: 'mymaster',
    });
    expect(error.variable).toBe('REDIS_SENTINEL_NAME');
    expect(error.message).toContain('without REDIS_SENTINELS');
  });

  it.each([
    ['REDIS_URL', { REDIS_URL: 'redis://127.0.0.1:6379/0' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: '127.0.0.1:7000' }],
  ])('refuses sentinels together with %s, naming both', (other, extra) => {
    const error = configError({ ...sentinels, ...extra });
    expect(error.message).toContain(other);
    expect(error.message).toContain('REDIS_SENTINELS');
    expect(error.message).toContain('both');
  });

  it('refuses all three Redis settings together, naming each', () => {
    const error = configError({
      ...sentinels,
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      REDIS_CLUSTER_NODES: '127.0.0.1:7000',
    });
    for (const name of ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'])
      expect(error.message).toContain(name);
    expect(error.message).toContain('all set');
  });
});

describe('loadConfig: METRICS and METRICS_PORT', () => {
  it('turns metrics on by default, served on the main port', () => {
    expect(loadConfig({}).metrics).toEqual({ enabled: true });
  });

  it.each(['on', 'true', '1', 'ON', ' On ', ''])(
    'reads METRICS=%p as on',
    (value) => {
      expect(loadConfig({ METRICS: value }).metrics).toEqual({
        enabled: true,
      });
    },
  );

  it.each(['off', 'false', '0', 'OFF', ' off '])(
    'reads METRICS=%p as off',
    (value) => {
      expect(loadConfig({ METRICS: value }).metrics).toEqual({
        enabled: false,
      });
    },
  );

  it('reads METRICS_PORT as the port of a metrics server of its own', () => {
    expect(loadConfig({ METRICS_PORT: '9464' }).metrics).toEqual({
      enabled: true,
      port: 9464,
    });
    expect(
      loadConfig({ METRICS: 'on', METRICS_PORT: '65535', PORT: '8080' })
        .metrics,
    ).toEqual({ enabled: true, port: 65535 });
  });

  it('treats an empty METRICS_PORT as unset, also with METRICS off', () => {
    expect(loadConfig({ METRICS_PORT: '' }).metrics).toEqual({
      enabled: true,
    });
    expect(loadConfig({ METRICS: 'off', METRICS_PORT: '' }).metrics).toEqual({
      enabled: false,
    });
  });

  it.each(['yes', 'no', 'enabled', '2'])(
    'refuses METRICS=%p with a ConfigError naming it',
    (value) => {
      const error = configError({ METRICS: value });
      expect(error.variable).toBe('METRICS');
      expect(error.message).toContain('METRICS');
    },
  );

  it.each(['abc', '0', '-1', '65536', '94.64', ' 9464'])(
    'refuses METRICS_PORT=%p with a ConfigError naming it',
    (value) => {
      const error = configError({ METRICS_PORT: value });
      expect(error.variable).toBe('METRICS_PORT');
      expect(error.message).toContain('METRICS_PORT');
    },
  );

  it('refuses METRICS_PORT while METRICS is off', () => {
    const error = configError({ METRICS: 'off', METRICS_PORT: '9464' });
    expect(error.variable).toBe('METRICS_PORT');
    expect(error.message).toContain('METRICS is off');
  });

  it('refuses a METRICS_PORT equal to PORT, the default PORT included', () => {
    expect(configError({ PORT: '8080', METRICS_PORT: '8080' }).variable).toBe(
      'METRICS_PORT',
    );
    expect(configError({ METRICS_PORT: '3000' }).variable).toBe('METRICS_PORT');
  });
});

describe('loadConfig: refresh tokens, introspection clients, PUBLIC_URL', () => {
  it('defaults to 30-day refresh tokens, 14 days idle, a 10 s reuse grace, no clients, no public URL', () => {
    const config = loadConfig({});
    expect(config.refreshTokenAbsoluteSeconds).toBe(2_592_000);
    expect(config.refreshTokenIdleSeconds).toBe(1_209_600);
    expect(config.refreshReuseGraceSeconds).toBe(10);
    expect(config.introspectionClients).toEqual([]);
    expect(config.publicUrl).toBeUndefined();
  });

  it('reads the refresh lifetimes, a grace of 0 included', () => {
    const config = loadConfig({
      REFRESH_TOKEN_ABSOLUTE_SECONDS: '86400',
      REFRESH_TOKEN_IDLE_SECONDS: '3600',
      REFRESH_REUSE_GRACE_SECONDS: '0',
    });
    expect(config.refreshTokenAbsoluteSeconds).toBe(86_400);
    expect(config.refreshTokenIdleSeconds).toBe(3600);
    expect(config.refreshReuseGraceSeconds).toBe(0);
    expect(() => loadConfig({ REFRESH_REUSE_GRACE_SECONDS: '301' })).toThrow(
      /REFRESH_REUSE_GRACE_SECONDS/,
    );
    expect(() => loadConfig({ REFRESH_TOKEN_IDLE_SECONDS: '0' })).toThrow(
      /REFRESH_TOKEN_IDLE_SECONDS/,
    );
  });

  it('reads INTROSPECTION_CLIENTS as id:secret pairs; a secret may hold colons', () => {
    expect(
      loadConfig({
        INTROSPECTION_CLIENTS:
          ' billing:0123456789abcdef , search:abc:def:0123456789ab',
      }).introspectionClients,
    ).toEqual([
      { id: 'billing', secret: '0123456789abcdef' },
      { id: 'search', secret: 'abc:def:0123456789ab' },
    ]);
  });

  it.each([
    ['no secret', 'billing'],
    ['an empty id', ':0123456789abcdef'],
    ['a short secret', 'billing:short'],
    ['an id with spaces', 'bill ing:0123456789abcdef'],
    ['an id twice', 'a:0123456789abcdef,a:fedcba9876543210'],
  ])('refuses INTROSPECTION_CLIENTS with %s', (_, value) => {
    expect(() => loadConfig({ INTROSPECTION_CLIENTS: value })).toThrow(
      /INTROSPECTION_CLIENTS/,
    );
  });

  it('reads PUBLIC_URL as an origin and refuses paths and other schemes', () => {
    expect(
      loadConfig({ PUBLIC_URL: 'https://auth.example.com/' }).publicUrl,
    ).toBe('https://auth.example.com');
    for (const bad of ['https://auth.example.com/base', 'ftp://x', 'nonsense'])
      expect(() => loadConfig({ PUBLIC_URL: bad })).toThrow(/PUBLIC_URL/);
  });
});

describe('loadConfig: DATABASE_URL, DATABASE_POOL_MAX, DATABASE_DIR, DATABASE_MIGRATE', () => {
  it('uses the embedded PGlite under .data/pglite without DATABASE_URL, with one warning', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({
      kind: 'pglite',
      dir: '.data/pglite',
      migrate: true,
    });
    const warnings = config.warnings.filter((w) => w.includes('PGlite'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('single process');
  });

  it('moves the embedded database with DATABASE_DIR', () => {
    expect(loadConfig({ DATABASE_DIR: '/var/lib/auth' }).database).toEqual({
      kind: 'pglite',
      dir: '/var/lib/auth',
      migrate: true,
    });
  });

  it.each([
    'postgres://u@db:5432/auth',
    'postgresql://u:p@db/auth?sslmode=require',
  ])(
    'reads DATABASE_URL=%p with a pool of 10 by default and no PGlite warning',
    (url) => {
      const config = loadConfig({ DATABASE_URL: url });
      expect(config.database).toEqual({
        kind: 'postgres',
        url,
        poolMax: 10,
        migrate: true,
      });
      expect(config.warnings.join()).not.toContain('PGlite');
    },
  );

  it('reads DATABASE_POOL_MAX and DATABASE_MIGRATE=off', () => {
    expect(
      loadConfig({
        DATABASE_URL: 'postgres://db/auth',
        DATABASE_POOL_MAX: '25',
        DATABASE_MIGRATE: 'off',
      }).database,
    ).toEqual({
      kind: 'postgres',
      url: 'postgres://db/auth',
      poolMax: 25,
      migrate: false,
    });
  });

  it.each([
    ['DATABASE_URL', { DATABASE_URL: 'mysql://db/auth' }],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
    [
      'DATABASE_POOL_MAX',
      { DATABASE_URL: 'postgres://db/a', DATABASE_POOL_MAX: '0' },
    ],
    [
      'DATABASE_POOL_MAX',
      { DATABASE_URL: 'postgres://db/a', DATABASE_POOL_MAX: 'ten' },
    ],
    ['DATABASE_POOL_MAX', { DATABASE_POOL_MAX: '5' }],
    [
      'DATABASE_DIR',
      { DATABASE_URL: 'postgres://db/a', DATABASE_DIR: '/tmp/x' },
    ],
    ['DATABASE_MIGRATE', { DATABASE_MIGRATE: 'sometimes' }],
  ])('refuses a bad %s with a ConfigError naming it', (variable, env) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
  });
});

describe('loadConfig: PERSONAL_TOKENS_PER_USER', () => {
  it('allows 50 live personal tokens per account by default', () => {
    expect(loadConfig({}).personalTokensPerUser).toBe(50);
  });

  it.each([
    ['1', 1],
    ['10000', 10_000],
  ])('reads PERSONAL_TOKENS_PER_USER=%s', (raw, expected) => {
    expect(
      loadConfig({ PERSONAL_TOKENS_PER_USER: raw }).personalTokensPerUser,
    ).toBe(expected);
  });

  it.each(['0', '10001', 'many', '5.5'])(
    'refuses PERSONAL_TOKENS_PER_USER=%p with a ConfigError naming it',
    (value) => {
      const error = configError({ PERSONAL_TOKENS_PER_USER: value });
      expect(error.variable).toBe('PERSONAL_TOKENS_PER_USER');
      expect(error.message).toContain('PERSONAL_TOKENS_PER_USER');
    },
  );
});

describe('loadConfig: MAIL, MAIL_URL, MAIL_FROM, SERVICE_NAME, MAIL_RETRY_*', () => {
  it('writes mail as .eml files under .data/mail by default in development, links from localhost', () => {
    expect(loadConfig({ PORT: '8080' }).mail).toEqual({
      enabled: true,
      transport: { kind: 'file', dir: '.data/mail' },
      from: 'no-reply@localhost',
      serviceName: 'Auth',
      linkBase: 'http://localhost:8080',
      retryForSeconds: 86_400,
      retryBaseMs: 30_000,
    });
  });

  it('makes links from PUBLIC_URL when it is set', () => {
    const mail = loadConfig({ PUBLIC_URL: 'https://id.example.com/' }).mail;
    expect(mail.enabled && mail.linkBase).toBe('https://id.example.com');
  });

  it.each([
    ['console:', { kind: 'console' }],
    [
      'file:/var/spool/auth-mail',
      { kind: 'file', dir: '/var/spool/auth-mail' },
    ],
    [
      'smtp://mail.example.com',
      {
        kind: 'smtp',
        host: 'mail.example.com',
        port: 587,
        secure: false,
        requireTls: false,
      },
    ],
    [
      'smtp://user%40example.com:p%40ss%3Aword@mail.example.com:2525',
      {
        kind: 'smtp',
        host: 'mail.example.com',
        port: 2525,
        secure: false,
        requireTls: true,
        user: 'user@example.com',
        password: 'p@ss:word',
      },
    ],
    [
      'smtp://user:pw@127.0.0.1:1025',
      {
        kind: 'smtp',
        host: '127.0.0.1',
        port: 1025,
        secure: false,
        requireTls: false,
        user: 'user',
        password: 'pw',
      },
    ],
    [
      'smtps://user:pw@[::1]',
      {
        kind: 'smtp',
        host: '::1',
        port: 465,
        secure: true,
        requireTls: false,
        user: 'user',
        password: 'pw',
      },
    ],
  ])('reads MAIL_URL=%s', (value, transport) => {
    const mail = loadConfig({ MAIL_URL: value }).mail;
    expect(mail.enabled && mail.transport).toEqual(transport);
  });

  it.each([
    ['http://mail.example.com', 'smtp://'],
    ['mailto:someone@example.com', 'smtp://'],
    ['not a url', 'is not a URL'],
    ['smtp://', 'names no host'],
    ['smtp://mail.example.com/path', 'only smtp(s)://'],
    ['smtp://mail.example.com?secure=false', 'only smtp(s)://'],
    ['smtp://:pw@mail.example.com', 'no user'],
    ['smtp://u:%E0%A4%A@mail.example.com', 'badly escaped'],
    ['file:', 'directory'],
    ['console:x', 'smtp://'],
  ])('refuses MAIL_URL=%s, naming it', (value, problem) => {
    const error = configError({ MAIL_URL: value });
    expect(error.variable).toBe('MAIL_URL');
    expect(error.message).toContain(problem);
  });

  it('never puts the password of a refused MAIL_URL in the message', () => {
    for (const value of [
      'smtp://user:hunter2-secret@mail.example.com/path',
      'ftp://user:hunter2-secret@mail.example.com',
      'smtp://user:hunter2-secret@mail.example.com:99999',
    ]) {
      const error = configError({ MAIL_URL: value });
      expect(error.variable).toBe('MAIL_URL');
      expect(error.message).not.toContain('hunter2');
    }
  });

  it('turns mail off with MAIL=off, and refuses a MAIL_URL then', () => {
    expect(loadConfig({ MAIL: 'off' }).mail).toEqual({ enabled: false });
    const error = configError({ MAIL: 'off', MAIL_URL: 'console:' });
    expect(error.variable).toBe('MAIL_URL');
    expect(error.message).toContain('MAIL is off');
  });

  it.each([
    ['MAIL', 'maybe'],
    ['MAIL_FROM', 'not an address'],
    ['MAIL_FROM', 'a@b.c\r\nBcc: x@y.z'],
    ['MAIL_FROM', 'Name <a@b.c>'],
    ['SERVICE_NAME', 'Auth\r\nBcc: x@y.z'],
    ['SERVICE_NAME', 'x'.repeat(65)],
    ['MAIL_RETRY_FOR_SECONDS', '0'],
    ['MAIL_RETRY_FOR_SECONDS', '1d'],
    ['MAIL_RETRY_BASE_MS', '9'],
  ])('refuses %s=%p, naming it', (variable, value) => {
    const error = configError({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
  });

  it('reads MAIL_FROM, SERVICE_NAME and the retry settings', () => {
    const mail = loadConfig({
      MAIL_FROM: ' accounts@example.com ',
      SERVICE_NAME: ' Example ID ',
      MAIL_RETRY_FOR_SECONDS: '5',
      MAIL_RETRY_BASE_MS: '100',
    }).mail;
    expect(mail).toMatchObject({
      from: 'accounts@example.com',
      serviceName: 'Example ID',
      retryForSeconds: 5,
      retryBaseMs: 100,
    });
  });
});
