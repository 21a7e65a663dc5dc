import type { Target } from './load.js';

/** What a flood of simultaneous logins got back from one instance. */
export interface FloodResult {
  logins: number;
  /** 200 with what a login gives: an access token (service), a session cookie (reference). */
  loggedIn: number;
  /** 503 with Retry-After: shed instead of queued past the login wait limit. */
  shed: number;
  /** Anything else, e.g. "500", "503 without Retry-After", "socket error". */
  other: string[];
  /** Answers (of any kind) that came within the deadline. */
  withinDeadline: number;
  deadlineMs: number;
  maxMs: number;
  /** The slowest 503, or null when none was shed. */
  maxShedMs: number | null;
}

type Outcome = { kind: 'loggedIn' | 'shed' | 'other'; label: string };

/** A 200 whose body is not what a login gives (not even JSON) is an "other", not a crash. */
function accepts(
  loggedIn: (res: Response, body: string) => boolean,
  res: Response,
  body: string,
): boolean {
  try {
    return loggedIn(res, body);
  } catch {
    return false;
  }
}

async function outcomeOf(
  res: Response,
  loggedIn: (res: Response, body: string) => boolean,
): Promise<Outcome> {
  const body = await res.text();
  if (res.status === 200 && accepts(loggedIn, res, body))
    return { kind: 'loggedIn', label: '200' };
  if (res.status === 503 && res.headers.has('retry-after'))
    return { kind: 'shed', label: '503' };
  return {
    kind: 'other',
    label: res.status === 503 ? '503 without Retry-After' : String(res.status),
  };
}

/**
 * `logins` logins sent at the same moment, timed from that moment to the end of each answer.
 * fetch (undici) sends each on a connection of its own, as it does every request it has in
 * flight to one origin at once. Nothing is retried: a shed login counts as shed.
 */
export async function flood(
  target: Target,
  logins: number,
  deadlineMs: number,
  loggedIn: (res: Response, body: string) => boolean,
): Promise<FloodResult> {
  const startedMs = performance.now();
  const one = async (): Promise<Outcome & { ms: number }> => {
    const outcome = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...target.headers },
      body: JSON.stringify(target.json),
    }).then(
      (res) => outcomeOf(res, loggedIn),
      (): Outcome => ({ kind: 'other', label: 'socket error' }),
    );
    return { ...outcome, ms: performance.now() - startedMs };
  };
  const answers = await Promise.all(Array.from({ length: logins }, one));
  const shedMs = answers.filter((a) => a.kind === 'shed').map((a) => a.ms);
  return {
    logins,
    loggedIn: answers.filter((a) => a.kind === 'loggedIn').length,
    shed: shedMs.length,
    other: answers.filter((a) => a.kind === 'other').map((a) => a.label),
    withinDeadline: answers.filter((a) => a.ms <= deadlineMs).length,
    deadlineMs,
    maxMs: Math.max(...answers.map((a) => a.ms)),
    maxShedMs: shedMs.length ? Math.max(...shedMs) : null,
  };
}

/** Issue 15's bar: every answer within the deadline, each a login or a 503 with Retry-After. */
export function floodMet(result: FloodResult): boolean {
  return (
    result.withinDeadline === result.logins &&
    result.loggedIn + result.shed === result.logins
  );
}
