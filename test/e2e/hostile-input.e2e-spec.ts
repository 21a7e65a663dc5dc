/**
 * Issue 4, "bad-input suite": hostile inputs on every route. Every request must get an answer
 * below 500, none may authenticate or succeed where it should not, and Redis must hold no
 * write that only a valid request may make.
 */
import type { Redis } from 'ioredis';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { rawRequest } from '../helpers/raw-http.js';
import { nestRoutes } from '../helpers/routes.js';
import { AppRedisCommands } from '../helpers/redis-monitor.js';
import { signedCookie } from '../helpers/cookies.js';
import {
  LoggedIn,
  login,
  PASSWORD,
  registerAndLogin,
  uniqueName,
} from '../helpers/logins.js';
import { inspectRedis } from '../helpers/redis-inspection.js';
import { startApp, TestApp } from '../helpers/test-app.js';

/** Hang detector for every request: an answer must come, however slow the machine. */
const HANG_GUARD = { response: 10_000, deadline: 15_000 };

// ---------------------------------------------------------------------------------------------
// Credentials

type Who = 'anonymous' | 'user' | 'admin' | 'leaver';
type Via = 'bearer' | 'cookie';

interface Fixture {
  user: LoggedIn;
  admin: LoggedIn;
  /** The account the logout routes end; logged in again whenever one of them succeeds. */
  leaver: LoggedIn;
  /** Target of the admin routes. */
  victim: LoggedIn;
}

/** The plain user's name, known before the app starts so the attack table can use it. */
const USER_NAME = uniqueName();
let t: TestApp;
let inspect: Redis;
let port: number;
const fx = {} as Fixture;

function credentialOf(who: Who): LoggedIn | undefined {
  return who === 'anonymous' ? undefined : fx[who];
}

/** Cyrillic look-alikes of Latin letters. */
function homoglyph(text: string): string {
  const map: Record<string, string> = {
    a: '\u0430',
    e: '\u0435',
    o: '\u043e',
    p: '\u0440',
    c: '\u0441',
    s: '\u0455',
    r: '\u0433',
  };
  return [...text].map((ch) => map[ch] ?? ch).join('');
}

// ---------------------------------------------------------------------------------------------
// Routes

interface RouteVariant {
  who: Who;
  via?: Via;
}

interface Route {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Route as declared, for test names. */
  name: string;
  /** A well-formed path; `id` replaces the route parameter for path attacks. */
  path: (id?: string) => string;
  as: RouteVariant[];
  /** A valid body per attacked field; the field attacks replace that field with hostile values. */
  fields?: Record<string, { base: () => object; values: unknown[] }>;
  /**
   * No hostile input may succeed here (register, log in, change password, change a user);
   * `fields`: only hostile field values may not, as an empty body is a valid no-op.
   */
  mustNotSucceed?: boolean | 'fields';
  /** Needs a valid credential; hostile credentials must not get past the guard. */
  protectedRoute?: boolean;
  /** Ends the caller's login when it succeeds. */
  endsLogin?: boolean;
  hasParam?: boolean;
}

const DEEP = 3_000;
const deepObject = JSON.parse(
  `${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}`,
) as object;
const deepArray = JSON.parse(`${'['.repeat(DEEP)}${']'.repeat(DEEP)}`) as [];

/** Wrong types for any field. */
const WRONG_TYPES: unknown[] = [
  42,
  -1,
  1e308,
  true,
  false,
  null,
  ['a', 'b'],
  {},
  { $ne: null },
  { $gt: '' },
  { toString: 'x' },
  deepObject,
  deepArray,
];

/** New passwords the policy refuses: empty, too short, too long, far too long. */
const REFUSED_PASSWORDS = ['', 'short', 'x'.repeat(129), 'x'.repeat(5_000)];

/** Strings no username may be, and no password check may trip over. */
function hostileStrings(sample: string): string[] {
  return [
    '',
    ' ',
    `${sample}\u0000`,
    `\u0000${sample}`,
    homoglyph(sample),
    `\u202e${sample}`,
    `${sample}\ud800`,
    '😀'.repeat(20),
    'x'.repeat(5_000),
    '*',
    '{users}',
    `${sample}:*`,
    '../../etc/passwd',
    '%00',
    '<script>alert(1)</script>',
  ];
}

/** The admin routes are attacked as the admin and as a plain user. */
const ADMIN_AND_USER: RouteVariant[] = [{ who: 'admin' }, { who: 'user' }];
/** Routes that take both a bearer token and the browser's session cookie. */
const USER_BOTH_WAYS: RouteVariant[] = [
  { who: 'user' },
  { who: 'user', via: 'cookie' },
];

function routes(): Route[] {
  const ghost = () => uniqueName('ghost');
  /** The new password of a password change, next to the right current password. */
  const newPasswordField = {
    base: () => ({ currentPassword: PASSWORD }),
    values: [...WRONG_TYPES, ...REFUSED_PASSWORDS],
  };
  /** RFC 7009 / 7662 requests: hostile tokens, and hostile hints next to a made-up token. */
  const tokenOperationFields = (hint: string) => ({
    token: {
      base: () => ({}),
      values: [...WRONG_TYPES, ...hostileStrings('x'.repeat(43))],
    },
    token_type_hint: {
      base: () => ({ token: 'x'.repeat(43) }),
      values: [...WRONG_TYPES, ...hostileStrings(hint)],
    },
  });
  return [
    {
      method: 'post',
      name: 'POST /auth/register',
      path: () => '/auth/register',
      as: [{ who: 'anonymous' }],
      mustNotSucceed: true,
      fields: {
        username: {
          base: () => ({ username: uniqueName('hostile'), password: PASSWORD }),
          values: [
            ...WRONG_TYPES,
            ...hostileStrings(uniqueName('hostile')),
            'ab',
            'x'.repeat(65),
          ],
        },
        // Only values the policy must refuse: an odd but valid password would rightly register.
        password: {
          base: () => ({ username: uniqueName('hostile'), password: PASSWORD }),
          values: [...WRONG_TYPES, ...REFUSED_PASSWORDS],
        },
        roles: {
          base: () => ({ username: uniqueName('hostile'), password: PASSWORD }),
          values: [['admin'], 'admin', null],
        },
        email: {
          base: () => ({ username: uniqueName('hostile'), password: PASSWORD }),
          values: [
            ...WRONG_TYPES,
            'a@b.c\r\nBcc: x@y.z',
            'a@b.c, x@y.z',
            'Alice <a@b.c>',
            `${'a'.repeat(10_000)}@example.test`,
            'a\u0000@b.c',
          ],
        },
      },
    },
    {
      method: 'post',
      name: 'POST /auth/token',
      path: () => '/auth/token',
      as: [{ who: 'anonymous' }],
      mustNotSucceed: true,
      fields: {
        // The real password with a username that is not quite the user's: never a login.
        username: {
          base: () => ({
            grant_type: 'password',
            username: fx.user.username,
            password: PASSWORD,
          }),
          values: [...WRONG_TYPES, ...hostileStrings(USER_NAME)],
        },
        // Unknown accounts only, so no real account collects failed logins.
        password: {
          base: () => ({ grant_type: 'password', username: ghost() }),
          values: [...WRONG_TYPES, '\u0000', 'x'.repeat(1_025)],
        },
        grant_type: {
          base: () => ({ username: fx.user.username, password: PASSWORD }),
          values: [
            ...WRONG_TYPES,
            'client_credentials',
            'PASSWORD',
            'password\u0000',
            ['password', 'password'],
          ],
        },
        client_id: {
          base: () => ({ username: fx.user.username, password: PASSWORD }),
          values: [['a', 'b'], { x: 1 }, 42, 'x'.repeat(1_025)],
        },
        scope: {
          base: () => ({ username: ghost(), password: PASSWORD }),
          values: [...WRONG_TYPES, ...hostileStrings('profile')],
        },
        refresh_token: {
          base: () => ({ grant_type: 'refresh_token' }),
          values: [...WRONG_TYPES, ...hostileStrings('x'.repeat(43))],
        },
      },
    },
    {
      method: 'post',
      name: 'POST /auth/revoke',
      path: () => '/auth/revoke',
      as: [{ who: 'anonymous' }],
      fields: tokenOperationFields('refresh_token'),
    },
    {
      method: 'post',
      name: 'POST /auth/introspect',
      path: () => '/auth/introspect',
      as: [{ who: 'admin' }],
      fields: tokenOperationFields('access_token'),
    },
    {
      method: 'get',
      name: 'GET /.well-known/oauth-authorization-server',
      path: () => '/.well-known/oauth-authorization-server',
      as: [{ who: 'anonymous' }],
    },
    {
      method: 'post',
      name: 'POST /auth/logout',
      path: () => '/auth/logout',
      as: [{ who: 'leaver' }],
      protectedRoute: true,
      endsLogin: true,
    },
    {
      method: 'get',
      name: 'GET /auth/sessions',
      path: () => '/auth/sessions',
      as: [{ who: 'user', via: 'cookie' }],
      protectedRoute: true,
    },
    {
      method: 'get',
      name: 'GET /auth/events',
      path: () => '/auth/events',
      as: [{ who: 'user', via: 'cookie' }],
      protectedRoute: true,
    },
    {
      method: 'delete',
      name: 'DELETE /auth/sessions/:id',
      path: (id = 'no-such-login') => `/auth/sessions/${id}`,
      as: [{ who: 'user', via: 'cookie' }],
      protectedRoute: true,
      hasParam: true,
    },
    {
      method: 'post',
      name: 'POST /auth/logout-all',
      path: () => '/auth/logout-all',
      as: [{ who: 'leaver', via: 'cookie' }],
      protectedRoute: true,
      endsLogin: true,
    },
    {
      method: 'post',
      name: 'POST /auth/password',
      path: () => '/auth/password',
      as: [{ who: 'user' }],
      protectedRoute: true,
      mustNotSucceed: true,
      fields: {
        // A handful of wrong current passwords: the strings below that pass validation.
        currentPassword: {
          base: () => ({ newPassword: 'a new and long passphrase 4711' }),
          values: [
            ...WRONG_TYPES,
            homoglyph(PASSWORD),
            `${PASSWORD}\u0000`,
            'x'.repeat(1_025),
          ],
        },
        newPassword: newPasswordField,
      },
    },
    {
      method: 'post',
      name: 'POST /auth/personal-tokens',
      path: () => '/auth/personal-tokens',
      as: USER_BOTH_WAYS,
      protectedRoute: true,
      mustNotSucceed: 'fields',
      fields: {
        name: {
          base: () => ({ scopes: ['profile'], currentPassword: PASSWORD }),
          values: [
            ...WRONG_TYPES,
            '',
            ' ',
            'a\u0000b',
            '\u0000',
            '\u202eabc',
            'abc\ud800',
            'a\nb',
            'x'.repeat(101),
            'x'.repeat(5_000),
          ],
        },
        scopes: {
          base: () => ({ name: 'hostile', currentPassword: PASSWORD }),
          values: [
            ...WRONG_TYPES,
            'profile',
            [],
            ['everything'],
            ['profile', 'profile'],
            ['admin'],
            [null],
            [{}],
            [['profile']],
            ['PROFILE'],
            ['profile\u0000'],
            [homoglyph('profile')],
            ['__proto__'],
          ],
        },
        expiresInDays: {
          base: () => ({
            name: 'hostile',
            scopes: ['profile'],
            currentPassword: PASSWORD,
          }),
          // 42 days is a valid lifetime.
          values: [
            ...WRONG_TYPES.filter((v) => v !== 42),
            0,
            366,
            1.5,
            '30',
            Number.MAX_SAFE_INTEGER + 2,
          ],
        },
        currentPassword: {
          base: () => ({ name: 'hostile', scopes: ['profile'] }),
          values: [
            ...WRONG_TYPES,
            '',
            homoglyph(PASSWORD),
            `${PASSWORD}\u0000`,
            'x'.repeat(1_025),
          ],
        },
      },
    },
    {
      method: 'get',
      name: 'GET /auth/personal-tokens',
      path: () => '/auth/personal-tokens',
      as: USER_BOTH_WAYS,
      protectedRoute: true,
    },
    {
      method: 'delete',
      name: 'DELETE /auth/personal-tokens/:id',
      path: (id = randomUUID()) => `/auth/personal-tokens/${id}`,
      as: USER_BOTH_WAYS,
      protectedRoute: true,
      hasParam: true,
    },
    {
      method: 'get',
      name: 'GET /admin/me',
      path: () => '/admin/me',
      as: [{ who: 'user' }],
      protectedRoute: true,
    },
    {
      method: 'get',
      name: 'GET /metrics',
      path: () => '/metrics',
      as: ADMIN_AND_USER,
      protectedRoute: true,
    },
    {
      method: 'get',
      name: 'GET /admin/users',
      path: () => '/admin/users',
      as: ADMIN_AND_USER,
      protectedRoute: true,
    },
    {
      method: 'get',
      name: 'GET /admin/events',
      path: () => '/admin/events',
      as: ADMIN_AND_USER,
      protectedRoute: true,
    },
    {
      method: 'patch',
      name: 'PATCH /admin/users/:id',
      path: (id = fx.victim.userId) => `/admin/users/${id}`,
      as: ADMIN_AND_USER,
      protectedRoute: true,
      mustNotSucceed: 'fields',
      hasParam: true,
      fields: {
        roles: {
          base: () => ({ disabled: false }),
          // `[]` is left out: a user without roles is a valid, if odd, administrative choice.
          values: [
            ...WRONG_TYPES.filter((v) => !Array.isArray(v) || v.length > 0),
            'admin',
            ['superuser'],
            ['admin', 'admin'],
            ['user', 'admin', 'user'],
            [null],
            [{}],
            [['admin']],
            ['ADMIN'],
            ['admin\u0000'],
            [homoglyph('admin')],
            ['__proto__'],
          ],
        },
        disabled: {
          base: () => ({ roles: ['user'] }),
          values: [
            ...WRONG_TYPES.filter((v) => typeof v !== 'boolean'),
            'true',
            'false',
            1,
            0,
            '',
          ],
        },
        username: {
          base: () => ({ disabled: false }),
          values: ['someone-else', 42],
        },
        passwordHash: {
          base: () => ({ disabled: false }),
          values: ['scrypt$1$1$1$AAAA$AAAA'],
        },
      },
    },
    {
      method: 'delete',
      name: 'DELETE /admin/users/:id/sessions',
      path: (id = fx.victim.userId) => `/admin/users/${id}/sessions`,
      as: ADMIN_AND_USER,
      protectedRoute: true,
      hasParam: true,
    },
    {
      method: 'get',
      name: 'GET /admin/users/:id/personal-tokens',
      path: (id = fx.victim.userId) => `/admin/users/${id}/personal-tokens`,
      as: ADMIN_AND_USER,
      protectedRoute: true,
      hasParam: true,
    },
    {
      method: 'delete',
      name: 'DELETE /admin/users/:id/personal-tokens',
      path: (id = fx.victim.userId) => `/admin/users/${id}/personal-tokens`,
      as: ADMIN_AND_USER,
      protectedRoute: true,
      hasParam: true,
    },
    {
      method: 'delete',
      name: 'DELETE /admin/users/:id/personal-tokens/:tokenId',
      path: (id = randomUUID()) =>
        `/admin/users/${fx.victim.userId}/personal-tokens/${id}`,
      as: ADMIN_AND_USER,
      protectedRoute: true,
      hasParam: true,
    },
    {
      method: 'get',
      name: 'GET /',
      path: () => '/',
      as: [{ who: 'anonymous' }, { who: 'user', via: 'cookie' }],
    },
    {
      method: 'get',
      name: 'GET /auth/login',
      path: () => '/auth/login',
      as: [{ who: 'anonymous' }],
    },
    {
      method: 'get',
      name: 'GET /assets/login.css',
      path: () => '/assets/login.css',
      as: [{ who: 'anonymous' }],
    },
    {
      method: 'get',
      name: 'GET /account',
      path: () => '/account',
      as: [{ who: 'user', via: 'cookie' }, { who: 'user' }],
      protectedRoute: true,
    },
    {
      method: 'get',
      name: 'GET /assets/account.css',
      path: () => '/assets/account.css',
      as: [{ who: 'anonymous' }],
    },
    {
      method: 'post',
      name: 'POST /account/logins/:id/end',
      path: (id = 'no-such-login') => `/account/logins/${id}/end`,
      as: [{ who: 'user', via: 'cookie' }],
      protectedRoute: true,
      hasParam: true,
    },
    {
      method: 'post',
      name: 'POST /account/logout-all',
      path: () => '/account/logout-all',
      as: [{ who: 'leaver', via: 'cookie' }],
      protectedRoute: true,
      endsLogin: true,
    },
    {
      method: 'post',
      name: 'POST /account/password',
      path: () => '/account/password',
      as: [{ who: 'user', via: 'cookie' }],
      protectedRoute: true,
      mustNotSucceed: true,
      fields: {
        // Only values validation refuses: /auth/password spends the wrong-password attempts.
        currentPassword: {
          base: () => ({ newPassword: 'a new and long passphrase 4711' }),
          values: [...WRONG_TYPES, '', 'x'.repeat(1_025)],
        },
        newPassword: newPasswordField,
      },
    },
    {
      method: 'get',
      name: 'GET /auth/email',
      path: () => '/auth/email',
      as: [{ who: 'user' }],
      protectedRoute: true,
    },
    {
      method: 'post',
      name: 'POST /auth/email',
      path: () => '/auth/email',
      as: [{ who: 'user' }],
      protectedRoute: true,
      mustNotSucceed: true,
      fields: {
        email: {
          base: () => ({ currentPassword: PASSWORD }),
          values: [
            ...WRONG_TYPES,
            'a@b.c\r\nBcc: x@y.z',
            'a@b.c, x@y.z',
            'Alice <a@b.c>',
            `${'a'.repeat(10_000)}@example.test`,
            'a\u0000@b.c',
          ],
        },
        currentPassword: {
          base: () => ({ email: 'someone@example.test' }),
          values: [...WRONG_TYPES, '', 'x'.repeat(1_025)],
        },
      },
    },
    {
      method: 'post',
      name: 'POST /auth/email/resend',
      path: () => '/auth/email/resend',
      as: [{ who: 'user' }],
      protectedRoute: true,
    },
    {
      method: 'get',
      name: 'GET /auth/password/forgot',
      path: () => '/auth/password/forgot',
      as: [{ who: 'anonymous' }],
    },
    {
      method: 'get',
      name: 'GET /auth/password/reset',
      path: () => '/auth/password/reset',
      as: [{ who: 'anonymous' }],
    },
    {
      // Any well-formed login gets the same 202; hostile ones a 400, never more.
      method: 'post',
      name: 'POST /auth/password/forgot',
      path: () => '/auth/password/forgot',
      as: [{ who: 'anonymous' }],
      fields: {
        login: {
          base: () => ({}),
          values: [...WRONG_TYPES, '', 'a\u0000b', 'x'.repeat(10_000)],
        },
      },
    },
    {
      method: 'post',
      name: 'POST /auth/password/reset',
      path: () => '/auth/password/reset',
      as: [{ who: 'anonymous' }],
      mustNotSucceed: true,
      fields: {
        token: {
          base: () => ({ newPassword: 'a long new passphrase 1234' }),
          values: [
            ...WRONG_TYPES,
            '',
            'a\u0000b',
            'x'.repeat(65),
            'A'.repeat(43),
          ],
        },
        newPassword: {
          base: () => ({ token: 'A'.repeat(43) }),
          values: [...WRONG_TYPES, '', 'a\u0000b', 'x'.repeat(10_000)],
        },
        revokePersonalTokens: {
          base: () => ({
            token: 'A'.repeat(43),
            newPassword: 'a long new passphrase 1234',
          }),
          values: WRONG_TYPES,
        },
      },
    },
    {
      method: 'get',
      name: 'GET /auth/email/verify',
      path: () => '/auth/email/verify',
      as: [{ who: 'anonymous' }],
    },
    {
      method: 'get',
      name: 'GET /auth/email/undo',
      path: () => '/auth/email/undo',
      as: [{ who: 'anonymous' }],
    },
    {
      method: 'post',
      name: 'POST /auth/email/verify',
      path: () => '/auth/email/verify',
      as: [{ who: 'anonymous' }],
      mustNotSucceed: true,
      fields: {
        token: {
          base: () => ({}),
          values: [
            ...WRONG_TYPES,
            '',
            'a\u0000b',
            'x'.repeat(65),
            'A'.repeat(43),
          ],
        },
      },
    },
    {
      method: 'post',
      name: 'POST /auth/email/undo',
      path: () => '/auth/email/undo',
      as: [{ who: 'anonymous' }],
      mustNotSucceed: true,
      fields: {
        token: {
          base: () => ({}),
          values: [
            ...WRONG_TYPES,
            '',
            'a\u0000b',
            'x'.repeat(65),
            'A'.repeat(43),
          ],
        },
      },
    },
    {
      method: 'post',
      name: 'POST /account/email',
      path: () => '/account/email',
      as: [{ who: 'user', via: 'cookie' }],
      protectedRoute: true,
      mustNotSucceed: true,
      fields: {
        email: {
          base: () => ({ currentPassword: PASSWORD }),
          values: [
            ...WRONG_TYPES,
            'a@b.c\r\nBcc: x@y.z',
            'a@b.c, x@y.z',
            'Alice <a@b.c>',
            `${'a'.repeat(10_000)}@example.test`,
            'a\u0000@b.c',
          ],
        },
      },
    },
    {
      method: 'post',
      name: 'POST /account/email/resend',
      path: () => '/account/email/resend',
      as: [{ who: 'user', via: 'cookie' }],
      protectedRoute: true,
    },
    {
      method: 'post',
      name: 'POST /account/personal-tokens',
      path: () => '/account/personal-tokens',
      as: [{ who: 'user', via: 'cookie' }],
      protectedRoute: true,
      mustNotSucceed: 'fields',
      // What the form sends as text ('30', a lone 'profile') is valid here, so it is left out.
      fields: {
        name: {
          base: () => ({ scopes: 'profile', currentPassword: PASSWORD }),
          values: [
            ...WRONG_TYPES,
            '',
            ' ',
            'a\u0000b',
            '\u202eabc',
            'abc\ud800',
            'a\nb',
            'x'.repeat(101),
            'x'.repeat(5_000),
          ],
        },
        scopes: {
          base: () => ({ name: 'hostile', currentPassword: PASSWORD }),
          values: [
            ...WRONG_TYPES,
            '',
            [],
            'everything',
            ['profile', 'profile'],
            'admin',
            [null],
            [{}],
            [['profile']],
            'PROFILE',
            'profile\u0000',
            homoglyph('profile'),
            '__proto__',
          ],
        },
        expiresInDays: {
          base: () => ({
            name: 'hostile',
            scopes: 'profile',
            currentPassword: PASSWORD,
          }),
          // 42 days is a valid lifetime.
          values: [
            ...WRONG_TYPES.filter((v) => v !== 42),
            0,
            '0',
            366,
            '366',
            1.5,
            '1.5',
            '30 ',
            '0x1e',
            '1e2',
            Number.MAX_SAFE_INTEGER + 2,
          ],
        },
        currentPassword: {
          base: () => ({ name: 'hostile', scopes: 'profile' }),
          values: [...WRONG_TYPES, '', 'x'.repeat(1_025)],
        },
      },
    },
    {
      method: 'post',
      name: 'POST /account/personal-tokens/:id/revoke',
      path: (id = randomUUID()) => `/account/personal-tokens/${id}/revoke`,
      as: [{ who: 'user', via: 'cookie' }],
      protectedRoute: true,
      hasParam: true,
    },
    {
      method: 'get',
      name: 'GET /health',
      path: () => '/health',
      as: [{ who: 'anonymous' }],
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Attacks

interface Context {
  route: Route;
  credential?: LoggedIn;
  via: Via;
}

/** A hostile request built with supertest. `anonymous` attacks bring their own credentials. */
interface Attack {
  name: string;
  anonymous?: boolean;
  /** Carries no valid credential: a protected route must refuse it. */
  mustNotAuthenticate?: boolean;
  path?: (ctx: Context) => string;
  apply?: (req: request.Test, ctx: Context) => request.Test;
}

/** A request as raw bytes, for what HTTP clients refuse to send. */
interface RawAttack {
  name: string;
  bytes: (ctx: Context) => Buffer;
}

const json = (text: string | Buffer) => (req: request.Test) =>
  req.set('Content-Type', 'application/json').send(text);
const form = (text: string | Buffer) => (req: request.Test) =>
  req.set('Content-Type', 'application/x-www-form-urlencoded').send(text);
const typed = (type: string, body: string | Buffer) => (req: request.Test) =>
  req.set('Content-Type', type).send(body);

const INVALID_UTF8 = Buffer.from([
  0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28,
]);

const BODY_ATTACKS: Attack[] = [
  { name: 'malformed JSON', apply: json('{"username": "a",') },
  { name: 'JSON with trailing garbage', apply: json('{"a":1}xyz') },
  { name: 'JSON top-level array', apply: json('[1,2,3]') },
  { name: 'JSON top-level string', apply: json('"hello"') },
  { name: 'JSON null', apply: json('null') },
  { name: 'JSON number', apply: json('42') },
  { name: 'empty JSON body', apply: json('') },
  { name: 'JSON with a BOM', apply: json('\ufeff{"username":"x"}') },
  {
    name: 'JSON with invalid UTF-8 bytes',
    apply: json(
      Buffer.concat([
        Buffer.from('{"username":"'),
        INVALID_UTF8,
        Buffer.from('","password":"'),
        INVALID_UTF8,
        Buffer.from('"}'),
      ]),
    ),
  },
  {
    name: 'JSON with NUL bytes',
    apply: json(Buffer.from('{"username":"a\u0000b","password":"\u0000"}')),
  },
  {
    name: 'JSON __proto__ pollution',
    apply: json(
      '{"__proto__":{"roles":["admin"],"isAdmin":true},"username":"x","password":"y"}',
    ),
  },
  {
    name: 'JSON constructor.prototype pollution',
    apply: json('{"constructor":{"prototype":{"roles":["admin"]}}}'),
  },
  {
    name: 'deeply nested JSON object',
    apply: json(
      `{"username":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)},"password":"x"}`,
    ),
  },
  {
    name: 'deeply nested JSON array',
    apply: json(`${'['.repeat(40_000)}${']'.repeat(40_000)}`),
  },
  {
    name: 'JSON body over 100 kB',
    apply: json(JSON.stringify({ username: 'x'.repeat(150_000) })),
  },
  {
    name: 'JSON body of 1 MB',
    apply: json(`{"a":"${'x'.repeat(1_000_000)}"}`),
  },
  {
    name: 'form body over 100 kB',
    apply: form(`username=${'x'.repeat(150_000)}`),
  },
  {
    name: 'form with 2000 parameters',
    apply: form(
      Array.from({ length: 2_000 }, (_, i) => `p${i}=${i}`).join('&'),
    ),
  },
  {
    name: 'form with deep brackets',
    apply: form(`username${'[a]'.repeat(200)}=1&password=x`),
  },
  {
    name: 'form operator injection username[$ne]=x',
    apply: form('username[$ne]=x&password[$ne]=x&grant_type=password'),
  },
  {
    name: 'form repeated parameters',
    apply: form('username=a&username=b&password=x&password=y'),
  },
  {
    name: 'form __proto__ keys',
    apply: form('__proto__[roles][]=admin&constructor[prototype][x]=1'),
  },
  {
    name: 'form percent-encoding garbage',
    apply: form('username=%E0%A4%A&password=%ZZ%&grant_type=%'),
  },
  { name: 'form NUL bytes', apply: form('username=a%00b&password=%00') },
  {
    name: 'form invalid UTF-8 bytes',
    apply: form(
      Buffer.concat([
        Buffer.from('username='),
        INVALID_UTF8,
        Buffer.from('&password=x'),
      ]),
    ),
  },
  {
    name: 'form array index overflow',
    apply: form('username[99999999]=x&password[]=a&password[]=b'),
  },
];

const CONTENT_TYPE_ATTACKS: Attack[] = [
  { name: 'text/plain', apply: typed('text/plain', '{"username":"x"}') },
  {
    name: 'multipart/form-data',
    apply: typed(
      'multipart/form-data; boundary=XyZ',
      '--XyZ\r\nContent-Disposition: form-data; name="username"\r\n\r\nx\r\n--XyZ--\r\n',
    ),
  },
  {
    name: 'broken multipart',
    apply: typed('multipart/form-data', '--\r\n\r\n--'),
  },
  {
    name: 'application/xml',
    apply: typed(
      'application/xml',
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><u>&e;</u>',
    ),
  },
  {
    name: 'JSON sent as form',
    apply: typed('application/x-www-form-urlencoded', '{"username":"x"}'),
  },
  {
    name: 'form sent as JSON',
    apply: typed('application/json', 'username=x&password=y'),
  },
  {
    name: 'charset utf-7',
    apply: typed('application/json; charset=utf-7', '{"username":"x"}'),
  },
  {
    name: 'unknown charset',
    apply: typed('application/json; charset=bogus-8', '{"username":"x"}'),
  },
  {
    name: 'UTF-16 charset',
    apply: typed(
      'application/json; charset=utf-16le',
      Buffer.from('{"username":"x"}', 'utf16le'),
    ),
  },
  {
    name: 'garbage content type',
    apply: typed(';;;/===; charset=', '{"username":"x"}'),
  },
  {
    name: 'vendor JSON type',
    apply: typed('application/vnd.api+json', '{"username":"x"}'),
  },
  {
    name: 'gzip garbage',
    apply: (req) =>
      req
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'gzip')
        .send(Buffer.from('not gzip at all')),
  },
  {
    name: 'unknown content encoding',
    apply: (req) =>
      req
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'x-unknown')
        .send('{"username":"x"}'),
  },
  {
    name: 'HTML-preferring client with malformed JSON',
    apply: (req) =>
      req
        .set('Accept', 'text/html')
        .set('Content-Type', 'application/json')
        .send('{"username'),
  },
  {
    name: 'garbage Accept header',
    apply: (req) => req.set('Accept', '*/*;q=garbage, ;;, text/html;q=2'),
  },
];

function queryAttacks(): Attack[] {
  const queries = [
    'a=1&a=2',
    'offset=1e20',
    'offset=9007199254740993',
    'offset=-1',
    'limit=0',
    'limit=101',
    'limit=1.5',
    'limit=abc',
    'limit=1&limit=2',
    'limit[]=1',
    'offset[$gt]=0',
    'offset=0x10',
    'offset=%20',
    '__proto__=x',
    '__proto__[admin]=1',
    'constructor=x',
    'error=__proto__',
    'error=constructor',
    'error=toString',
    'error=hasOwnProperty',
    'error=a&error=b',
    'registered=%3Cscript%3Ealert(1)%3C%2Fscript%3E',
    `registered=${'x'.repeat(6_000)}`,
    'registered=a&registered=b',
    '%ZZ=%E0%A4%A',
    'x=%00',
    '%00=%00',
    '&&&===&&',
    'access_token=x',
  ];
  return [
    ...queries.map((q) => ({
      name: `?${q.length > 60 ? `${q.slice(0, 60)}...` : q}`,
      path: (ctx: Context) => `${ctx.route.path()}?${q}`,
    })),
    {
      name: 'token in the query string only',
      anonymous: true,
      mustNotAuthenticate: true,
      path: (ctx: Context) =>
        `${ctx.route.path()}?access_token=${fx.user.accessToken}`,
    },
  ];
}

const PARAM_ATTACKS = [
  '..%2F..%2Fhealth',
  '..',
  '%00',
  'a%00b',
  '%E0%A4%A',
  '%ZZ',
  'x'.repeat(8_000),
  '*',
  '%2A',
  '%7Busers%7D',
  'auth%3Asess%3Ax',
  '__proto__',
  'constructor',
  '00000000-0000-4000-8000-000000000000',
  'null',
  '-1',
  '1e20',
  '%F0%9F%98%80',
  '%D9%A1%D9%A2%D9%A3',
  '%20',
];

function paramAttacks(): Attack[] {
  return [
    ...PARAM_ATTACKS.map((p) => ({
      name: `:id = ${p.length > 40 ? `${p.slice(0, 40)}...` : p}`,
      path: (ctx: Context) => ctx.route.path(p),
    })),
    {
      name: ':id = upper-cased real id',
      path: (ctx: Context) => ctx.route.path(fx.victim.userId.toUpperCase()),
    },
  ];
}

function cookieAttacks(): Attack[] {
  const validCookie = (ctx: Context) => (ctx.credential ?? fx.user).cookie;
  const id = () =>
    `${(Date.now() + 3_600_000).toString(36)}.${randomBytes(32).toString('base64url')}`;
  const cookies: [string, (ctx: Context) => string][] = [
    ['garbage session cookie', () => 'session=garbage'],
    ['session=s%3A', () => 'session=s%3A'],
    ['session=s:', () => 'session=s:'],
    [
      'signature made with another secret',
      () => signedCookie(id(), 'another-secret-0123456789-abcdefghijkl'),
    ],
    [
      'real session with a forged signature',
      (ctx) => {
        const cookie = validCookie(ctx);
        return `${cookie.slice(0, -1)}${cookie.endsWith('A') ? 'B' : 'A'}`;
      },
    ],
    [
      'signed id that is not a session id: path',
      () => signedCookie('../../etc/passwd'),
    ],
    ['signed id that is not a session id: glob', () => signedCookie('*')],
    ['signed id of 4 kB', () => signedCookie('x'.repeat(4_000))],
    [
      'signed id with an overflowing deadline',
      () =>
        signedCookie(`zzzzzzzzzzzz.${randomBytes(32).toString('base64url')}`),
    ],
    [
      'signed id with a past deadline',
      () => signedCookie(`0.${randomBytes(32).toString('base64url')}`),
    ],
    ['signed id of no session', () => signedCookie(id())],
    ['oversized 8 kB cookie', () => `session=${'A'.repeat(8_000)}`],
    ['cookie beyond the header limit', () => `session=${'A'.repeat(20_000)}`],
    [
      'many cookies',
      () => Array.from({ length: 400 }, (_, i) => `c${i}=v${i}`).join('; '),
    ],
    ['cookie without a value', () => 'session'],
    ['empty cookie names', () => '=; =; ==='],
    ['only separators', () => ';;;;'],
    ['empty session twice', () => 'session=; session='],
    ['percent garbage', () => 'session=%E0%A4%A%ZZ'],
    ['quoted value', () => 'session="s:abc.def"'],
    ['latin-1 bytes', () => 'session=\u00e9\u00ff'],
  ];
  /** These carry the valid cookie too, so a protected route may rightly answer them. */
  const withValid: [string, (ctx: Context) => string][] = [
    [
      'garbage before the valid session cookie',
      (ctx) => `session=garbage; ${validCookie(ctx)}`,
    ],
    [
      'valid session cookie before garbage',
      (ctx) => `${validCookie(ctx)}; session=garbage`,
    ],
    [
      'valid session cookie among 400 others',
      (ctx) =>
        `${Array.from({ length: 400 }, (_, i) => `c${i}=v${i}`).join('; ')}; ${validCookie(ctx)}`,
    ],
  ];
  const attack =
    (mustNotAuthenticate: boolean) =>
    ([name, cookie]: [string, (ctx: Context) => string]): Attack => ({
      name,
      anonymous: true,
      mustNotAuthenticate,
      apply: (req, ctx) => req.set('Cookie', cookie(ctx)),
    });
  return [...cookies.map(attack(true)), ...withValid.map(attack(false))];
}

function authorizationAttacks(): Attack[] {
  const token = (ctx: Context) => (ctx.credential ?? fx.user).accessToken;
  const headers: [string, (ctx: Context) => string][] = [
    ['Bearer', () => 'Bearer'],
    ['Bearer and a space', () => 'Bearer '],
    ['Bearer  x', () => 'Bearer  x'],
    ['Bearer, two spaces, real token', (ctx) => `Bearer  ${token(ctx)}`],
    ['Basic !!!', () => 'Basic !!!'],
    [
      'Basic credentials',
      () =>
        `Basic ${Buffer.from(`${fx.user.username}:${PASSWORD}`).toString('base64')}`,
    ],
    ['4 kB token', () => `Bearer ${'a'.repeat(4_096)}`],
    ['token beyond the header limit', () => `Bearer ${'a'.repeat(20_000)}`],
    ['real token plus a character', (ctx) => `Bearer ${token(ctx)}x`],
    [
      'real token with its last character changed',
      (ctx) =>
        `Bearer ${token(ctx).slice(0, -1)}${token(ctx).endsWith('A') ? 'B' : 'A'}`,
    ],
    [
      'well-formed unknown token',
      () => `Bearer ${randomBytes(32).toString('base64url')}`,
    ],
    ['Bearer *', () => 'Bearer *'],
    ['Bearer ../../', () => 'Bearer ../../'],
    ['Bearer a b', () => 'Bearer a b'],
    ['Token scheme', (ctx) => `Token ${token(ctx)}`],
    ['tab separator', (ctx) => `Bearer\t${token(ctx)}`],
    ['latin-1 token', () => 'Bearer \u00e9\u00e8\u00ff'],
    ['Bearer null', () => 'Bearer null'],
    ['Bearer [object Object]', () => 'Bearer [object Object]'],
    ['Bearer %00', () => 'Bearer %00'],
    ['token twice', (ctx) => `Bearer ${token(ctx)}, Bearer ${token(ctx)}`],
  ];
  return headers.map(([name, header]) => ({
    name: `Authorization: ${name}`,
    anonymous: true,
    mustNotAuthenticate: true,
    apply: (req: request.Test, ctx: Context) =>
      req.set('Authorization', header(ctx)),
  }));
}

function rawAttacks(): RawAttack[] {
  const line = (ctx: Context, path?: string | Buffer) =>
    Buffer.concat([
      Buffer.from(`${ctx.route.method.toUpperCase()} `),
      Buffer.from(path ?? ctx.route.path()),
      Buffer.from(' HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n'),
    ]);
  const end = (body = '') =>
    Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  const auth = (ctx: Context) =>
    ctx.credential
      ? ctx.via === 'cookie'
        ? `Cookie: ${ctx.credential.cookie}\r\n`
        : `Authorization: Bearer ${ctx.credential.accessToken}\r\n`
      : '';
  /** A hostile request target, with the context's credential. */
  const target = (
    name: string,
    path: (ctx: Context) => string | Buffer,
  ): RawAttack => ({
    name,
    bytes: (ctx) =>
      Buffer.concat([line(ctx, path(ctx)), Buffer.from(auth(ctx)), end()]),
  });
  /** Hostile header lines in place of the context's credential. */
  const headers = (
    name: string,
    lines: (ctx: Context) => string,
  ): RawAttack => ({
    name,
    bytes: (ctx) => Buffer.concat([line(ctx), Buffer.from(lines(ctx)), end()]),
  });
  /** Conflicting or broken body framing: the rest of the request after the request line. */
  const framing = (
    name: string,
    rest: string,
    { withCredential }: { withCredential: boolean },
  ): RawAttack => ({
    name,
    bytes: (ctx) =>
      Buffer.concat([
        line(ctx),
        Buffer.from(withCredential ? auth(ctx) : ''),
        Buffer.from(rest),
      ]),
  });
  return [
    target('invalid UTF-8 bytes in the path', (ctx) =>
      Buffer.concat([Buffer.from(ctx.route.path()), INVALID_UTF8]),
    ),
    target('NUL byte in the path', (ctx) => `${ctx.route.path()}\u0000x`),
    headers(
      'NUL byte in the Cookie header',
      () => 'Cookie: session=a\u0000b\r\n',
    ),
    headers(
      'UTF-8 bytes in the Cookie header',
      () => 'Cookie: session=ключ\r\n',
    ),
    headers(
      'non-ASCII bearer token',
      () => 'Authorization: Bearer токен-ключ-ñ\r\n',
    ),
    headers(
      'NUL byte in the Authorization header',
      () => 'Authorization: Bearer a\u0000b\r\n',
    ),
    headers(
      'two Authorization headers',
      () =>
        'Authorization: Bearer garbage\r\n' +
        `Authorization: Bearer ${fx.user.accessToken}\r\n`,
    ),
    framing(
      'Content-Length and Transfer-Encoding together',
      'Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      { withCredential: true },
    ),
    framing(
      'two different Content-Length headers',
      'Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\n{}',
      { withCredential: false },
    ),
    framing(
      'chunked body with a bad chunk size',
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      { withCredential: true },
    ),
    framing(
      'body shorter than its Content-Length',
      'Content-Type: application/json\r\nContent-Length: 10\r\n\r\n{}',
      { withCredential: true },
    ),
    target(
      'absolute-form request target',
      (ctx) => `http://evil.example${ctx.route.path()}`,
    ),
    {
      name: 'invalid UTF-8 in a form body',
      bytes: (ctx) => {
        const body = Buffer.concat([
          Buffer.from('username='),
          INVALID_UTF8,
          Buffer.from('&password='),
          INVALID_UTF8,
        ]);
        return Buffer.concat([
          line(ctx),
          Buffer.from(auth(ctx)),
          Buffer.from(
            `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`,
          ),
          body,
        ]);
      },
    },
  ];
}

function fieldAttacks(route: Route): Attack[] {
  return Object.entries(route.fields ?? {}).flatMap(([field, spec]) =>
    spec.values.map((value, i) => ({
      name: `${field} = ${describeValue(value)} (#${i})`,
      apply: (req: request.Test) =>
        req.send({ ...spec.base(), [field]: value }),
    })),
  );
}

function describeValue(value: unknown): string {
  if (value === deepObject) return `object nested ${DEEP} deep`;
  if (value === deepArray) return `array nested ${DEEP} deep`;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40
    ? `${text.slice(0, 40)}... (${text.length} chars)`
    : text;
}

// ---------------------------------------------------------------------------------------------
// Running attacks and checking Redis

/**
 * Keys that a request may rightly leave: the failed-login counters, the login epoch that
 * ending all of an account's logins raises, and the password-reset request counters (all by
 * design).
 */
const BY_DESIGN =
  /^auth:login-failures:|^auth:\{u:[^}]+\}:epoch$|^auth:reset-requests:|^auth:\{u:[^}]+\}:reset-mails:/;

async function allKeys(): Promise<Set<string>> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await inspect.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) keys.add(key);
  } while (cursor !== '0');
  return keys;
}

/** Runs `fn`, a valid request, and returns the keys it created. */
async function keysCreatedBy(fn: () => Promise<unknown>): Promise<Set<string>> {
  const before = await allKeys();
  await fn();
  const created = new Set<string>();
  for (const key of await allKeys()) if (!before.has(key)) created.add(key);
  return created;
}

let appCommands: AppRedisCommands;

interface Outcome {
  attack: string;
  status: number;
  problem: string;
}

function isSuccess(status: number, location?: string): boolean {
  if (status >= 200 && status < 300) return true;
  return status >= 300 && status < 400 && !location?.includes('error=');
}

function judge(
  ctx: Context,
  category: Category,
  attack: { name: string; mustNotAuthenticate?: boolean },
  status: number,
  location?: string,
): Outcome | undefined {
  const outcome = (problem: string) => ({
    attack: attack.name,
    status,
    problem,
  });
  if (status >= 500) return outcome('server error');
  const mustNotSucceed =
    ctx.route.mustNotSucceed === true ||
    (ctx.route.mustNotSucceed === 'fields' && category.fieldAttacks === true);
  if (mustNotSucceed && isSuccess(status, location))
    return outcome('hostile input succeeded');
  if (
    ctx.route.protectedRoute &&
    attack.mustNotAuthenticate &&
    status >= 200 &&
    status < 400
  )
    return outcome('authenticated without a valid credential');
  return undefined;
}

/** Logs the leaver in again when a logout route ended its login; its new keys are valid writes. */
async function afterRequest(
  ctx: Context,
  status: number,
  location: string | undefined,
  allowed: Set<string>,
) {
  if (!ctx.route.endsLogin || !isSuccess(status, location)) return;
  const created = await keysCreatedBy(async () => {
    const again = await login(t.server, fx.leaver.username);
    fx.leaver = { ...fx.leaver, ...again };
  });
  for (const key of created) allowed.add(key);
}

function build(ctx: Context, attack: Attack): request.Test {
  const path = attack.path ? attack.path(ctx) : ctx.route.path();
  let req = request(t.server)[ctx.route.method](path).timeout(HANG_GUARD);
  if (!attack.anonymous && ctx.credential) {
    req =
      ctx.via === 'cookie'
        ? req.set('Cookie', ctx.credential.cookie)
        : req.set('Authorization', `Bearer ${ctx.credential.accessToken}`);
  }
  return attack.apply ? attack.apply(req, ctx) : req;
}

interface Category {
  name: string;
  fieldAttacks?: boolean;
  applies: (route: Route) => boolean;
  attacks: (route: Route) => (Attack | RawAttack)[];
}

const CATEGORIES: Category[] = [
  {
    name: 'malformed, oversized and polluted bodies',
    applies: () => true,
    attacks: () => BODY_ATTACKS,
  },
  {
    name: 'wrong types and hostile strings in fields',
    fieldAttacks: true,
    applies: (route) => route.fields !== undefined,
    attacks: (route) => fieldAttacks(route),
  },
  {
    name: 'odd content types and encodings',
    applies: () => true,
    attacks: () => CONTENT_TYPE_ATTACKS,
  },
  {
    name: 'hostile query strings',
    applies: () => true,
    attacks: () => queryAttacks(),
  },
  {
    name: 'hostile path parameters',
    applies: (route) => route.hasParam === true,
    attacks: () => paramAttacks(),
  },
  {
    name: 'broken cookies',
    applies: () => true,
    attacks: () => cookieAttacks(),
  },
  {
    name: 'broken Authorization headers',
    applies: () => true,
    attacks: () => authorizationAttacks(),
  },
  {
    name: 'raw bytes: invalid UTF-8, NUL bytes, conflicting framing',
    applies: () => true,
    attacks: () => rawAttacks(),
  },
];

async function runCategory(
  route: Route,
  variant: RouteVariant,
  category: Category,
): Promise<{ outcomes: Outcome[]; partialWrites: string[]; sent: number }> {
  const allowed = new Set<string>();
  const before = await allKeys();
  appCommands.clear();
  const outcomes: Outcome[] = [];
  const attacks = category.attacks(route);
  for (const attack of attacks) {
    // The leaver's credential changes as it logs in again, so the context is built per request.
    const ctx: Context = {
      route,
      credential: credentialOf(variant.who),
      via: variant.via ?? 'bearer',
    };
    let status: number;
    let location: string | undefined;
    if ('bytes' in attack) {
      status = (await rawRequest(port, attack.bytes(ctx))).status;
    } else {
      const res = await build(ctx, attack);
      status = res.status;
      location = res.headers.location;
    }
    const problem = judge(ctx, category, attack, status, location);
    if (problem) outcomes.push(problem);
    await afterRequest(ctx, status, location, allowed);
  }
  await appCommands.flush();
  const partialWrites = [...(await allKeys())].filter(
    (key) =>
      !before.has(key) &&
      !allowed.has(key) &&
      !BY_DESIGN.test(key) &&
      appCommands.named(key),
  );
  return { outcomes, partialWrites, sent: attacks.length };
}

// ---------------------------------------------------------------------------------------------

describe('hostile input on every route', () => {
  const adminName = uniqueName('admin');

  beforeAll(async () => {
    t = await startApp(
      { ADMIN_USERNAME: adminName, ADMIN_PASSWORD: PASSWORD },
      { listen: true },
    );
    port = Number(new URL(t.url).port);
    inspect = inspectRedis();
    appCommands = new AppRedisCommands(t.redis);
    await appCommands.start();
    fx.user = await registerAndLogin(t.server, USER_NAME);
    fx.leaver = await registerAndLogin(t.server);
    fx.victim = await registerAndLogin(t.server);
    const admin = await login(t.server, adminName);
    const me = await request(t.server)
      .get('/admin/me')
      .set('Authorization', `Bearer ${admin.accessToken}`)
      .expect(200);
    fx.admin = { ...admin, userId: (me.body as { id: string }).id };
    expect(me.body).toMatchObject({ roles: ['user', 'admin'] });
  });

  afterAll(async () => {
    appCommands?.stop();
    await inspect?.quit();
    await t?.close();
  });

  it('attacks exactly the routes the app serves', () => {
    const attacked = routes()
      .map((route) => route.name)
      .sort();
    const served = nestRoutes(t)
      .map((route) => `${route.method} ${route.path}`)
      .sort();
    expect(attacked).toEqual(served);
  });

  const table = routes().flatMap((route) =>
    route.as.flatMap((variant) =>
      CATEGORIES.filter((c) => c.applies(route)).map((category) => ({
        route,
        variant,
        category,
        title: `${route.name} as ${variant.who}${variant.via === 'cookie' ? ' (cookie)' : ''}: ${category.name}`,
      })),
    ),
  );

  it.each(table)(
    '$title get 4xx or an ordinary answer, never 5xx, and leave no partial writes',
    async ({ route, variant, category }) => {
      const { outcomes, partialWrites, sent } = await runCategory(
        route,
        variant,
        category,
      );
      expect(sent).toBeGreaterThan(0);
      expect(outcomes).toEqual([]);
      expect(partialWrites).toEqual([]);
    },
  );

  it('keeps the logins of the user and the admin working after the whole barrage', async () => {
    for (const who of ['user', 'admin'] as const) {
      await request(t.server)
        .get('/admin/me')
        .set('Authorization', `Bearer ${fx[who].accessToken}`)
        .expect(200);
    }
    await request(t.server)
      .get('/admin/me')
      .set('Cookie', fx.user.cookie)
      .expect(200);
  });
});
