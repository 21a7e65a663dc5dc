import { formatRate } from './chart.js';
import { floodMet } from './flood.js';
import type { BenchResults, VariantName, VariantSummary } from './results.js';

/** One of issue 15's targets and what this run measured; `met` null: reported, no target. */
export interface TargetCheck {
  target: string;
  result: string;
  met: boolean | null;
}

function ms(value: number): string {
  return value < 10
    ? value.toFixed(1)
    : Math.round(value).toLocaleString('en-US');
}

function times(value: number | null): string {
  return value === null ? 'n/a' : `${value.toFixed(2)}×`;
}

function atLeast(value: number | null, bar: number): boolean {
  return value !== null && value >= bar;
}

/** Every target is computed from the run's own numbers; nothing here is a measured value. */
export function targetChecks(results: BenchResults): TargetCheck[] {
  const variant = (name: VariantName): VariantSummary =>
    results.variants.find((v) => v.name === name)!;
  const login = variant('login');
  const referenceLogin = variant('reference-login');
  const session = variant('session');
  const bearer = variant('bearer');
  const eventsOff = variant('login-events-off');
  const { storm, flood, settings, securityEvents } = results;
  const table = securityEvents.table;
  const deadlineS = settings.floodDeadlineMs / 1000;
  const floodLine = (f: typeof flood.service) =>
    `${f.withinDeadline}/${f.logins} within ${deadlineS} s; ${f.loggedIn} logged in, ${f.shed} shed (503 + Retry-After${f.maxShedMs === null ? '' : `, slowest ${ms(f.maxShedMs)} ms`}), ${f.other.length} other${f.other.length ? ` (${[...new Set(f.other)].join(', ')})` : ''}; slowest answer ${ms(f.maxMs)} ms`;
  return [
    {
      target: `Logins per second at ${login.connections} connections: at least 3× the reference`,
      result: `${times(login.ratio)} (${formatRate(login.requestsPerSecond)}/s against ${formatRate(referenceLogin.requestsPerSecond)}/s)`,
      met: atLeast(login.ratio, 3),
    },
    {
      target:
        'Logins per second with security events on: at least 0.95× the same build with SECURITY_EVENTS=off',
      result: `${times(securityEvents.loginRatio)} (${formatRate(login.requestsPerSecond)}/s against ${formatRate(eventsOff.requestsPerSecond)}/s)`,
      met: atLeast(securityEvents.loginRatio, 0.95),
    },
    {
      target: 'security_events after the run (one row per login)',
      result: table
        ? `${table.rows.toLocaleString('en-US')} rows, ${(table.totalBytes / 2 ** 20).toFixed(1)} MiB with indexes: ${Math.round(table.totalBytes / Math.max(1, table.rows))} bytes a row (${Math.round(table.rowBytes)} of them the row itself)`
        : 'not measured: the service kept it in PGlite',
      met: null,
    },
    {
      target: `Login latency at ${login.connections} connections`,
      result: `p50 ${ms(login.p50Ms)} ms, p99 ${ms(login.p99Ms)} ms (reference: p50 ${ms(referenceLogin.p50Ms)} ms, p99 ${ms(referenceLogin.p99Ms)} ms)`,
      met: null,
    },
    {
      target: `Flood, ${settings.floodLogins} logins at once: every answer within ${deadlineS} s, each a token or a 503 with Retry-After`,
      result: floodLine(flood.service),
      met: floodMet(flood.service),
    },
    {
      target: `The same flood on the reference`,
      result: floodLine(flood.reference),
      met: null,
    },
    {
      target: 'Session reads during the login storm: p99 under 50 ms',
      result: `${ms(storm.reads.p99Ms)} ms (${ms(storm.quietReads.p99Ms)} ms on the idle service)`,
      met: storm.reads.p99Ms < 50,
    },
    {
      target: 'Service RSS during the login storm',
      result: `at most ${storm.rssMaxMiB.toFixed(1)} MiB (${storm.rssBeforeMiB.toFixed(1)} MiB before; ${storm.rssSamples} readings)`,
      met: null,
    },
    {
      target: 'Session reads: at least 0.9× GET /health',
      result: times(session.healthRatio),
      met: atLeast(session.healthRatio, 0.9),
    },
    {
      target: 'Bearer reads: at least 0.95× GET /health',
      result: times(bearer.healthRatio),
      met: atLeast(bearer.healthRatio, 0.95),
    },
    {
      target:
        'Session and bearer reads against a public route with no I/O (the cost of authentication itself; GET /health pings Redis and PostgreSQL)',
      result: `session ${times(session.publicRatio)}, bearer ${times(bearer.publicRatio)}`,
      met: null,
    },
    {
      target: 'Session reads: at least 1.5× the reference',
      result: times(session.ratio),
      met: atLeast(session.ratio, 1.5),
    },
    {
      target: 'Bearer reads: at least 1.6× the reference',
      result: times(bearer.ratio),
      met: atLeast(bearer.ratio, 1.6),
    },
    {
      target:
        'Redis commands per successful login (INFO commandstats, those inside scripts too): at most 6',
      result: `${login.commands.perRequest.toFixed(2)} (the reference sends ${referenceLogin.commands.perRequest.toFixed(2)})`,
      met: login.commands.perRequest <= 6,
    },
    {
      target: 'One Redis command per authenticated read',
      result: `session ${session.commands.perRequest.toFixed(2)}, bearer ${bearer.commands.perRequest.toFixed(2)}; the reference sends ${variant('reference').commands.perRequest.toFixed(2)}`,
      // The read's own command (GETEX, GET) once per request; the rest is the login's
      // last-seen write (at most once a minute) and late commands of earlier logins.
      met: (
        [
          [session, 'getex'],
          [bearer, 'get'],
        ] as const
      ).every(
        ([v, command]) =>
          v.commands.breakdown[command]?.toFixed(2) === '1.00' &&
          v.commands.perRequest < 1.05,
      ),
    },
  ];
}

export function metText(met: boolean | null, markdown = false): string {
  if (met === null) return 'reported';
  if (met) return 'met';
  return markdown ? '**not met**' : 'NOT MET';
}
