import { DomainError } from './domain-error.js';
import { decodeCursor, encodeCursor } from './keyset-cursor.js';

describe('keyset listing cursor', () => {
  const position = {
    at: '2026-12-01T20:30:00.123Z',
    id: '0b6f2c8e-5a51-4d8e-9a55-3f1d8c2b7e10',
  };

  it('gives back the position it encodes', () => {
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it.each([
    ['not base64url JSON', '%%%'],
    ['empty', ''],
    ['JSON of another shape', Buffer.from('{"a":1}').toString('base64url')],
    [
      'a bad date',
      Buffer.from(
        JSON.stringify(['2026-13-45T99:00:00.000Z', position.id]),
      ).toString('base64url'),
    ],
    [
      'a bad id',
      Buffer.from(JSON.stringify([position.at, "x' or 1=1"])).toString(
        'base64url',
      ),
    ],
  ])('refuses %s with validation_failed', (_, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(DomainError);
  });
});
