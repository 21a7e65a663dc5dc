/** Programs that are not browsers, by the product token they send first. */
const CLIENTS: readonly [RegExp, string][] = [
  [/^curl\//i, 'curl'],
  [/^wget\//i, 'Wget'],
  [/^PostmanRuntime\//i, 'Postman'],
  [/^insomnia\//i, 'Insomnia'],
  [/^python-requests\//i, 'Python requests'],
  [/^python-httpx\//i, 'Python httpx'],
  [/^Go-http-client\//i, 'Go'],
  [/^(node|node-fetch|undici|axios)(\/|$)/i, 'Node.js'],
  [/^okhttp\//i, 'OkHttp'],
];

/** Most specific first: Edge and Opera also say Chrome, Chrome also says Safari. */
const BROWSERS: readonly [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\b(OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(Firefox|FxiOS)\//, 'Firefox'],
  [/\bHeadlessChrome\//, 'Headless Chrome'],
  [/\b(Chrome|CriOS|Chromium)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
];

/** Most specific first: iPhones say "like Mac OS X", Android says Linux. */
const SYSTEMS: readonly [RegExp, string][] = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

const MAX_PRODUCT = 40;

function firstMatch(
  table: readonly [RegExp, string][],
  text: string,
): string | undefined {
  return table.find(([pattern]) => pattern.test(text))?.[1];
}

/**
 * A person's name for the device behind a login, from its User-Agent: "Firefox on Windows",
 * "Safari on iPhone", "curl". A rough guess for a list of logins, never a security decision.
 */
export function describeDevice(userAgent: string): string {
  const ua = userAgent.trim();
  if (ua === '') return 'Unknown device';
  const client = firstMatch(CLIENTS, ua);
  if (client) return client;
  const browser = firstMatch(BROWSERS, ua);
  const system = firstMatch(SYSTEMS, ua);
  if (browser && system) return `${browser} on ${system}`;
  if (browser) return browser;
  if (system) return `Browser on ${system}`;
  // Something else: the name of its first product token, e.g. "MyApp/1.2 (…)" → "MyApp".
  const product = /^[^\s/()]+/.exec(ua)?.[0] ?? ua;
  return product.slice(0, MAX_PRODUCT);
}
