import { Logger } from '@nestjs/common';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { AppLogger, requestLogger } from './app-logger.js';

function capture(): {
  root: pino.Logger;
  records: () => Record<string, unknown>[];
} {
  const out = new PassThrough();
  const lines: string[] = [];
  out.on('data', (chunk: Buffer) =>
    lines.push(...chunk.toString().split('\n').filter(Boolean)),
  );
  return {
    root: pino(out),
    records: () =>
      lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('AppLogger', () => {
  afterEach(() => {
    Logger.overrideLogger(true);
  });

  it("writes a Nest Logger's name as the record's context", async () => {
    const { root, records } = capture();
    Logger.overrideLogger(new AppLogger(root));
    new Logger('Auth').warn('a rotated refresh token was used again');
    await new Promise(setImmediate);
    expect(records()).toEqual([
      expect.objectContaining({
        level: 40,
        context: 'Auth',
        msg: 'a rotated refresh token was used again',
      }),
    ]);
  });

  it("turns Nest's error(message, stack, context) into an err with that stack", async () => {
    const { root, records } = capture();
    new AppLogger(root).error(
      'boom',
      'Error: boom\n    at somewhere (x.js:1:1)',
      'ExceptionsHandler',
    );
    await new Promise(setImmediate);
    expect(records()[0]).toMatchObject({
      level: 50,
      context: 'ExceptionsHandler',
      err: {
        message: 'boom',
        stack: 'Error: boom\n    at somewhere (x.js:1:1)',
      },
    });
  });

  it('writes through the logger of the request being served', async () => {
    const { root, records } = capture();
    const logger = new AppLogger(root);
    requestLogger.run(root.child({ req: { id: 7 } }), () =>
      logger.log('inside', 'Users'),
    );
    logger.log('outside', 'Users');
    await new Promise(setImmediate);
    expect(records().map((r) => [r.msg, r.req])).toEqual([
      ['inside', { id: 7 }],
      ['outside', undefined],
    ]);
  });
});
