import request from 'supertest';
import { expectLive, registerAndLogin } from '../helpers/logins.js';
import { startApp, TestApp } from '../helpers/test-app.js';
import { eventually } from '../helpers/waiting.js';
import {
  RedisSentinelSet,
  SENTINEL_MASTER_NAME,
} from '../helpers/redis-sentinel.js';

/** REDIS_SENTINELS: the service follows a master failover without a restart. */
describe('Redis Sentinel', () => {
  let redis: RedisSentinelSet;
  let t: TestApp;

  beforeAll(async () => {
    redis = await RedisSentinelSet.start();
    t = await startApp({
      REDIS_URL: '',
      REDIS_SENTINELS: redis.sentinels,
      REDIS_SENTINEL_NAME: SENTINEL_MASTER_NAME,
    });
  });

  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('finds the master through the sentinel and serves sessions and tokens', async () => {
    await request(t.server)
      .get('/health')
      .expect(200, { status: 'ok', redis: 'up', database: 'up' });
    const user = await registerAndLogin(t.server);
    await expectLive(t.server, user);
    const info = await t.redis.info('server');
    expect(info).toContain(`tcp_port:${redis.master.port}`);
  });

  it('survives the master being killed: the promoted replica serves the same logins', async () => {
    const user = await registerAndLogin(t.server);
    await redis.replicated();
    await redis.master.kill();

    // Meanwhile requests get quick 503s; then the sentinel promotes the replica and the
    // client, told of the switch, reconnects to it by itself.
    await eventually(
      async () => {
        const res = await request(t.server).get('/health').timeout(5_000);
        return res.status === 200 ? true : undefined;
      },
      'the service to be healthy on the promoted replica',
      30_000,
    );
    expect(await redis.currentMasterPort()).toBe(redis.replica.port);
    const info = await t.redis.info('server');
    expect(info).toContain(`tcp_port:${redis.replica.port}`);

    // The session and token made before the failover were replicated, and still work;
    // new logins are written to the new master.
    await expectLive(t.server, user);
    const after = await registerAndLogin(t.server);
    await expectLive(t.server, after);
  });
});
