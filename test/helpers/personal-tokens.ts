import type { Server } from 'node:http';
import request from 'supertest';
import { hashSecret } from '../../src/credentials/secret-hash.js';
import { redisKeys } from '../../src/infra/redis/redis-keys.js';
import { PASSWORD } from './logins.js';

/** The answer to POST /auth/personal-tokens. */
export interface CreatedPersonalToken {
  id: string;
  name: string;
  token: string;
  scopes: string[];
  expiresAt: string;
}

/** One entry of GET /auth/personal-tokens. */
export interface ListedPersonalToken {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string;
}

/** Creates a personal token as the caller of `auth` (a Cookie or Authorization header); expects 201. */
export async function createPersonalToken(
  server: Server,
  auth: Record<string, string>,
  body: {
    name?: string;
    scopes?: string[];
    expiresInDays?: number;
    currentPassword?: string;
  } = {},
): Promise<CreatedPersonalToken> {
  const res = await request(server)
    .post('/auth/personal-tokens')
    .set(auth)
    .send({
      name: 'test token',
      scopes: ['profile'],
      currentPassword: PASSWORD,
      ...body,
    });
  if (res.status !== 201)
    throw new Error(
      `creating a personal token answered ${res.status}: ${JSON.stringify(res.body)}`,
    );
  return res.body as CreatedPersonalToken;
}

export async function listPersonalTokens(
  server: Server,
  auth: Record<string, string>,
): Promise<ListedPersonalToken[]> {
  const res = await request(server)
    .get('/auth/personal-tokens')
    .set(auth)
    .expect(200);
  return res.body as ListedPersonalToken[];
}

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** Where the service caches a personal token. */
export function personalTokenKeyOf(token: string): string {
  return redisKeys.personalToken(hashSecret(token));
}
