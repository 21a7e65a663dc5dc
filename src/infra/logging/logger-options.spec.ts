import { PassThrough } from 'node:stream';
import { pinoHttp } from 'pino-http';
import { loadConfig } from '../config/app-config.js';
import { loggerOptions } from './logger-options.js';

/** Writes one record through a logger built as LoggingModule builds it; returns what came out. */
function written(logFormat: 'json' | 'pretty'): string {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const options = loggerOptions(loadConfig({ LOG_FORMAT: logFormat }), out);
  const { logger } = pinoHttp(options.pinoHttp, options.stream);
  logger.info({ userId: 'u-1' }, 'logged in');
  return chunks.join('');
}

describe('loggerOptions', () => {
  it('writes one JSON object a line with LOG_FORMAT=json', () => {
    const line = written('json');
    expect(JSON.parse(line)).toMatchObject({
      level: 30,
      userId: 'u-1',
      msg: 'logged in',
    });
  });

  it('writes a readable line with LOG_FORMAT=pretty', () => {
    const text = written('pretty');
    expect(text).toMatch(/INFO.*logged in/);
    expect(text).toContain('userId: "u-1"');
    expect(() => JSON.parse(text) as unknown).toThrow();
  });
});
