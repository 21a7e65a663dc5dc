import { plainAddress } from './client.js';

describe('plainAddress', () => {
  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:203.0.113.7', '203.0.113.7'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['2001:db8::1', '2001:db8::1'],
    // Mapped but not an IPv4 address after all: left as it came.
    ['::ffff:7f00:1', '::ffff:7f00:1'],
    ['', ''],
  ])('%s is shown as %s', (address, shown) => {
    expect(plainAddress(address)).toBe(shown);
  });
});
