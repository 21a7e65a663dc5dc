import type { Request, Response } from 'express';
import passport from 'passport';
import { Strategy as HttpBearerStrategy } from 'passport-http-bearer';
import type { CredentialResolver } from '../credentials/credential-resolver.js';
import type { Principal } from '../credentials/principal.js';
import { AUTH_REALM } from '../infra/http/http-errors.js';
import { runBearerStrategy } from './bearer-attempt.js';
import { BearerStrategy } from './bearer.strategy.js';

/**
 * runBearerStrategy drives passport-http-bearer without passport's middleware, by passport's
 * strategy contract. These pin that contract against the installed passport and
 * passport-http-bearer, so an upgrade that changes it fails here rather than in production.
 */

const ACTIONS = ['error', 'fail', 'pass', 'redirect', 'success'] as const;
type Action = (typeof ACTIONS)[number];
/** An action a strategy called on its per-request object, with its arguments. */
type Call = [Action, ...unknown[]];
type Actions = Record<Action, (...args: unknown[]) => void>;
/** A verify callback of passport-http-bearer's, typed for these tests. */
type Verify = (
  token: string,
  done: (err: unknown, user?: unknown, info?: string | object) => void,
) => void;
const bearerStrategy = (verify: Verify, realm = 'r') =>
  new HttpBearerStrategy({ realm }, verify);

function request(
  headers: Record<string, string> = {},
  query: Record<string, string> = {},
  body?: Record<string, string>,
): Request {
  return { headers, query, body } as unknown as Request;
}

describe('passport.authenticate, the driver runBearerStrategy replaces', () => {
  /** Runs `act` as a strategy's authenticate, the way passport runs a strategy registered by name. */
  function drive(act: (self: Actions) => void) {
    const seen: { self?: object; args?: unknown[]; reported?: unknown[] } = {};
    const strategy = {
      name: 'probe',
      authenticate(...args: unknown[]) {
        seen.self = this;
        seen.args = args;
        act(this as unknown as Actions);
      },
    };
    const authenticator = new passport.Passport();
    authenticator.use('probe', strategy);
    const req = request();
    const middleware = authenticator.authenticate(
      'probe',
      { session: false },
      (...reported: unknown[]) => (seen.reported = reported),
    ) as (req: Request, res: Response, next: () => void) => void;
    middleware(req, {} as Response, () => undefined);
    return { ...seen, strategy, req };
  }

  it('runs the strategy on a per-request object inheriting from it, given success, fail, error, redirect and pass', () => {
    const run = drive(() => undefined);
    expect(run.self).not.toBe(run.strategy);
    expect(Object.getPrototypeOf(run.self)).toBe(run.strategy);
    expect(Object.keys(run.self!).sort()).toEqual([...ACTIONS]);
    for (const action of ACTIONS)
      expect(typeof (run.self as Record<Action, unknown>)[action]).toBe(
        'function',
      );
    expect(run.args?.[0]).toBe(run.req);
    // The per-request actions never land on the strategy, which every request shares.
    for (const action of ACTIONS)
      expect(Object.hasOwn(run.strategy, action)).toBe(false);
  });

  it.each<[string, Call, unknown[]]>([
    [
      'success(user, info)',
      ['success', { id: 'u' }, { scope: 'x' }],
      [null, { id: 'u' }, { scope: 'x' }],
    ],
    [
      'fail(challenge)',
      ['fail', 'Bearer realm="r"'],
      [null, false, 'Bearer realm="r"', undefined],
    ],
    [
      'fail(status): a number alone is the status',
      ['fail', 400],
      [null, false, undefined, 400],
    ],
    ['fail(challenge, status)', ['fail', 'c', 400], [null, false, 'c', 400]],
    [
      'error(err)',
      ['error', new Error('store down')],
      [new Error('store down')],
    ],
  ])(
    'reports %s as runBearerStrategy reads it',
    (_name, [action, ...args], reported) => {
      const run = drive((self) => self[action](...args));
      expect(run.reported).toEqual(reported);
    },
  );
});

describe('passport-http-bearer Strategy', () => {
  const USER = { id: 'user' };

  /** Runs the strategy on a per-request object made as runBearerStrategy makes one, recording every action. */
  function actionsOf(strategy: object, req: Request): Call[] {
    const calls: Call[] = [];
    const attempt = Object.create(strategy) as Record<Action, unknown> & {
      authenticate(req: Request): void;
    };
    for (const action of ACTIONS)
      attempt[action] = (...args: unknown[]) => calls.push([action, ...args]);
    attempt.authenticate(req);
    return calls;
  }

  const verifying = (
    reply: (done: Parameters<Verify>[1]) => void,
    tokens: string[] = [],
  ) =>
    bearerStrategy((token, done) => {
      tokens.push(token);
      reply(done);
    });

  it('calls success(user, info) with what verify found for the header’s token', () => {
    const tokens: string[] = [];
    const strategy = verifying(
      (done) => done(null, USER, { scope: 'x' }),
      tokens,
    );
    expect(
      actionsOf(strategy, request({ authorization: 'Bearer good' })),
    ).toEqual([['success', USER, { scope: 'x' }]]);
    expect(tokens).toEqual(['good']);
  });

  it('calls fail(challenge) when no token is sent', () => {
    const strategy = verifying(() => {
      throw new Error('verify must not run without a token');
    });
    expect(actionsOf(strategy, request())).toEqual([
      ['fail', 'Bearer realm="r"'],
    ]);
  });

  it('calls fail(challenge) naming invalid_token when verify finds no user', () => {
    const strategy = verifying((done) => done(null, false));
    expect(
      actionsOf(strategy, request({ authorization: 'Bearer unknown' })),
    ).toEqual([['fail', 'Bearer realm="r", error="invalid_token"']]);
  });

  it.each([
    [
      'a malformed Authorization header',
      request({ authorization: 'Bearer a b' }),
    ],
    [
      'a token in the header and the query',
      request({ authorization: 'Bearer a' }, { access_token: 'b' }),
    ],
    [
      'a token in the header and the body',
      request({ authorization: 'Bearer a' }, {}, { access_token: 'b' }),
    ],
  ])('calls fail(400) for %s', (_case, req) => {
    const strategy = verifying((done) => done(null, USER));
    expect(actionsOf(strategy, req)).toEqual([['fail', 400]]);
  });

  it('calls error(err) when verify fails', () => {
    const failure = new Error('store down');
    const strategy = verifying((done) => done(failure));
    expect(
      actionsOf(strategy, request({ authorization: 'Bearer good' })),
    ).toEqual([['error', failure]]);
  });
});

describe('runBearerStrategy', () => {
  const principal = { userId: 'u', via: 'bearer' } as Principal;
  const failure = new Error('Connection is closed.');
  const resolver = {
    fromBearer: (token: string): Promise<Principal | null> =>
      token === 'good'
        ? Promise.resolve(principal)
        : token === 'broken'
          ? Promise.reject(failure)
          : Promise.resolve(null),
  } as unknown as CredentialResolver;
  const bearer = new BearerStrategy(resolver);
  const run = (req: Request, strategy: object = bearer) =>
    runBearerStrategy<Principal>(strategy, req);

  it('resolves with the principal behind a known token', async () => {
    await expect(run(request({ authorization: 'Bearer good' }))).resolves.toBe(
      principal,
    );
  });

  it('rejects an unknown token with the strategy’s verdict, invalid_token', async () => {
    await expect(
      run(request({ authorization: 'Bearer unknown' })),
    ).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('passes a store failure on as it is', async () => {
    await expect(run(request({ authorization: 'Bearer broken' }))).rejects.toBe(
      failure,
    );
  });

  it('rejects with unauthenticated when no token is sent', async () => {
    await expect(run(request())).rejects.toMatchObject({
      code: 'unauthenticated',
    });
  });

  it.each([
    [
      'a malformed Authorization header',
      request({ authorization: 'Bearer a b' }),
    ],
    [
      'a token sent twice',
      request({ authorization: 'Bearer a' }, { access_token: 'b' }),
    ],
  ])('rejects %s with malformed_bearer', async (_case, req) => {
    await expect(run(req)).rejects.toMatchObject({ code: 'malformed_bearer' });
  });

  it('rejects with unauthenticated when a strategy fails a token with its challenge', async () => {
    const strategy = bearerStrategy(
      (_token, done) => done(null, false),
      AUTH_REALM,
    );
    await expect(
      run(request({ authorization: 'Bearer x' }), strategy),
    ).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('turns an error that is no Error into one', async () => {
    const strategy = bearerStrategy(
      (_token, done) => done('not an Error'),
      AUTH_REALM,
    );
    const refused = run(request({ authorization: 'Bearer x' }), strategy);
    await expect(refused).rejects.toBeInstanceOf(Error);
    await expect(refused).rejects.toThrow('Bearer authentication failed');
  });

  it('leaves the shared strategy as it was, so concurrent requests keep their own outcomes', async () => {
    const outcomes = await Promise.allSettled([
      run(request({ authorization: 'Bearer good' })),
      run(request({ authorization: 'Bearer unknown' })),
      run(request({ authorization: 'Bearer good' })),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    for (const action of ACTIONS)
      expect(Object.hasOwn(bearer, action)).toBe(false);
  });
});
