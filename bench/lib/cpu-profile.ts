/** The parts of a V8 .cpuprofile (what `node --cpu-prof` writes) that a self-time summary needs. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: {
      functionName: string;
      url: string;
      lineNumber: number;
      columnNumber: number;
    };
  }[];
  /** Microseconds on the monotonic clock that process.hrtime also reads (on Linux). */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface SelfTime {
  /** e.g. "getex (node_modules/ioredis/built/Redis.js:12)". */
  name: string;
  category: string;
  micros: number;
}

export interface ProfileSummary {
  /** Time spent running something, i.e. everything but (idle); the base of the percentages. */
  busyMicros: number;
  idleMicros: number;
  functions: SelfTime[];
  categories: { category: string; micros: number }[];
  /** False if the window did not fit the profile and all samples were used instead. */
  windowApplied: boolean;
}

const IDLE = '(idle)';

/** Where a function's code comes from: an npm package, Node itself, the service, or V8. */
function categorise(functionName: string, url: string): string {
  if (functionName === IDLE) return 'idle';
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)')
    return '(program): V8 and native code not attributed to JS';
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `npm: ${pkg[1]}`;
  if (url.startsWith('node:')) return 'node internals (node:*)';
  if (url.includes('/dist/')) return 'app code (dist/)';
  if (url === '') return 'V8 builtins and native bindings';
  return 'other';
}

function shortLocation(url: string, line: number): string {
  if (!url) return '';
  const path = url.includes('/node_modules/')
    ? `node_modules/${url.split('/node_modules/').pop()}`
    : url.replace(/^file:\/\/.*?\/dist\//, 'dist/');
  return ` (${path}:${line + 1})`;
}

/**
 * Sample i lasts until sample i+1 (as Chrome DevTools counts it); the last until endTime.
 * Only samples inside [fromMicros, toMicros] count, to leave out boot and shutdown.
 */
function sampleDurations(
  profile: CpuProfile,
  fromMicros: number,
  toMicros: number,
): { nodeId: number; micros: number }[] {
  const durations: { nodeId: number; micros: number }[] = [];
  const times: number[] = [];
  let at = profile.startTime;
  for (const delta of profile.timeDeltas) times.push((at += delta));
  for (let i = 0; i < times.length; i++) {
    if (times[i] < fromMicros || times[i] > toMicros) continue;
    const next = times[i + 1] ?? profile.endTime;
    durations.push({ nodeId: profile.samples[i], micros: next - times[i] });
  }
  return durations;
}

function addTo(map: Map<string, SelfTime>, key: string, entry: SelfTime) {
  const known = map.get(key);
  if (known) known.micros += entry.micros;
  else map.set(key, { ...entry });
}

export function summariseProfile(
  profile: CpuProfile,
  window: { fromMicros: number; toMicros: number },
): ProfileSummary {
  const windowApplied =
    window.fromMicros >= profile.startTime &&
    window.toMicros <= profile.endTime;
  const durations = windowApplied
    ? sampleDurations(profile, window.fromMicros, window.toMicros)
    : sampleDurations(profile, -Infinity, Infinity);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const functions = new Map<string, SelfTime>();
  const categories = new Map<string, SelfTime>();
  let idleMicros = 0;
  for (const { nodeId, micros } of durations) {
    const frame = nodes.get(nodeId)!;
    if (frame.functionName === IDLE) {
      idleMicros += micros;
      continue;
    }
    const category = categorise(frame.functionName, frame.url);
    const name = `${frame.functionName || '(anonymous)'}${shortLocation(frame.url, frame.lineNumber)}`;
    addTo(functions, name, { name, category, micros });
    addTo(categories, category, { name: category, category, micros });
  }
  const byTime = (a: SelfTime, b: SelfTime) => b.micros - a.micros;
  const sortedCategories = [...categories.values()].sort(byTime);
  return {
    busyMicros: sortedCategories.reduce((sum, c) => sum + c.micros, 0),
    idleMicros,
    functions: [...functions.values()].sort(byTime),
    categories: sortedCategories.map(({ category, micros }) => ({
      category,
      micros,
    })),
    windowApplied,
  };
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1).padStart(5)} %`;
}

function millis(micros: number): string {
  return `${(micros / 1000).toFixed(0).padStart(7)} ms`;
}

export function formatProfileSummary(
  summary: ProfileSummary,
  topFunctions: number,
): string {
  const busy = summary.busyMicros;
  const lines = [
    `Busy ${(busy / 1e6).toFixed(2)} s, idle ${(summary.idleMicros / 1e6).toFixed(2)} s${summary.windowApplied ? ' (load window only: boot and shutdown left out)' : ' (whole profile: the load window did not fit it)'}; percentages are of busy time.`,
    '',
    `Top ${topFunctions} functions by self time:`,
    ...summary.functions
      .slice(0, topFunctions)
      .map(
        (f, i) =>
          `${String(i + 1).padStart(3)}. ${millis(f.micros)} ${percent(f.micros, busy)}  ${f.name}  [${f.category}]`,
      ),
    '',
    'Self time by origin:',
    ...summary.categories.map(
      (c) => `  ${millis(c.micros)} ${percent(c.micros, busy)}  ${c.category}`,
    ),
  ];
  return lines.join('\n');
}
