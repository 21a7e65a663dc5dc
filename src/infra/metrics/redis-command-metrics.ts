import type { Counter, Histogram } from 'prom-client';

/** Command names seen beyond this many share the label "other", so `call()` cannot grow the series without bound. */
const MAX_COMMAND_NAMES = 64;
const INSTRUMENTED = Symbol('redisCommandMetrics');
/** Set on a command once it is timed: ioredis resends unanswered commands after a reconnect. */
const TIMED = Symbol('redisCommandTimed');

interface TimedCommand {
  name: string;
  promise: Promise<unknown>;
  [TIMED]?: true;
}

type SendCommand = (
  this: unknown,
  command: TimedCommand,
  stream?: unknown,
  node?: unknown,
) => unknown;

interface Instrumentable {
  sendCommand?: SendCommand;
  [INSTRUMENTED]?: true;
}

interface CommandSeries {
  duration: Histogram.Internal<'command'>;
  errors: Counter.Internal;
}

/**
 * Times every command of an ioredis client (or Cluster) by wrapping its `sendCommand`, which
 * every command, pipeline and transaction goes through: one clock read when it is sent, one
 * when it settles. Returns false, and changes nothing, for a client without `sendCommand`
 * (the embedded ioredis-mock store) or one already instrumented.
 */
export function instrumentRedisCommands(
  client: object,
  duration: Histogram<'command'>,
  errors: Counter<'command'>,
): boolean {
  const target = client as Instrumentable;
  const send = target.sendCommand;
  if (typeof send !== 'function' || target[INSTRUMENTED]) return false;
  const labelled = (label: string): CommandSeries => ({
    duration: duration.labels(label),
    errors: errors.labels(label),
  });
  const series = new Map<string, CommandSeries>();
  let other: CommandSeries | undefined;
  const seriesOf = (name: string): CommandSeries => {
    let found = series.get(name);
    if (found) return found;
    if (series.size >= MAX_COMMAND_NAMES) return (other ??= labelled('other'));
    found = labelled(name.toLowerCase());
    series.set(name, found);
    return found;
  };
  target.sendCommand = function (command, stream, node) {
    if (command[TIMED] !== true) {
      command[TIMED] = true;
      const s = seriesOf(command.name);
      const sent = performance.now();
      command.promise.then(
        () => s.duration.observe((performance.now() - sent) / 1000),
        () => s.errors.inc(),
      );
    }
    return send.call(this, command, stream, node);
  };
  target[INSTRUMENTED] = true;
  return true;
}
