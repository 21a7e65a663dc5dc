import { isSameOriginRequest, OriginFacts } from './same-origin.js';

const own = 'https://auth.example.com';
const facts = (extra: Partial<OriginFacts>): OriginFacts => ({
  ownOrigin: own,
  allowedOrigins: [],
  ...extra,
});

describe('isSameOriginRequest', () => {
  it.each(['cross-site', 'same-site', 'Cross-Site'])(
    'refuses Sec-Fetch-Site %s',
    (site) => {
      expect(
        isSameOriginRequest(facts({ secFetchSite: site, origin: own })),
      ).toBe(false);
    },
  );

  it.each(['same-origin', 'none'])('accepts Sec-Fetch-Site %s', (site) => {
    expect(isSameOriginRequest(facts({ secFetchSite: site }))).toBe(true);
  });

  it('accepts a request with neither Fetch Metadata nor Origin (not a browser page)', () => {
    expect(isSameOriginRequest(facts({}))).toBe(true);
  });

  it('accepts the exact own origin when Fetch Metadata is missing', () => {
    expect(isSameOriginRequest(facts({ origin: own }))).toBe(true);
  });

  it.each([
    'null',
    'https://evil.example',
    'http://auth.example.com',
    'https://auth.example.com:8443',
    'https://auth.example.com.evil.io',
  ])('refuses Origin %s when Fetch Metadata is missing', (origin) => {
    expect(isSameOriginRequest(facts({ origin }))).toBe(false);
  });

  it('accepts an origin from the allow list, even one Fetch Metadata calls cross-site', () => {
    const allowed = 'https://app.example.com';
    expect(
      isSameOriginRequest(
        facts({
          origin: allowed,
          allowedOrigins: [allowed],
          secFetchSite: 'same-site',
        }),
      ),
    ).toBe(true);
  });

  it('never lets Origin null in through the allow list', () => {
    expect(
      isSameOriginRequest(facts({ origin: 'null', allowedOrigins: ['null'] })),
    ).toBe(false);
  });
});
