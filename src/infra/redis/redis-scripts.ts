import type { Cluster, Redis } from 'ioredis';

type Arg = string | number;

/**
 * A Lua script: its name, source, the keys it touches (from the facts that name them) and how
 * its arguments and reply are typed. Every key of one script must share a hash slot, so each
 * runs on a Redis Cluster too; each script's spec checks that. A script lives beside the store
 * that owns its keys and is defined through `defineScript`, the one registry.
 */
export interface RedisScript<
  Facts extends unknown[],
  Args extends unknown[],
  Result,
> {
  name: string;
  lua: string;
  numberOfKeys: number;
  keys: (...facts: Facts) => string[];
  argv: (...args: Args) => Arg[];
  reply: (raw: unknown) => Result;
}

// The registry holds scripts of every shape; each one's own types are enforced where it is run.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyScript = RedisScript<any[], any[], unknown>;

const registry = new Map<string, AnyScript>();
const defined = new WeakMap<object, Set<string>>();

/** Registers a script under its (unique) name; returns it for the store to run. */
export function defineScript<
  Facts extends unknown[],
  Args extends unknown[],
  Result,
>(script: RedisScript<Facts, Args, Result>): RedisScript<Facts, Args, Result> {
  if (registry.has(script.name))
    throw new Error(`Redis script "${script.name}" is defined twice`);
  registry.set(script.name, script);
  return script;
}

/** Every script defined so far, for the specs that check them all. */
export function registeredScripts(): readonly AnyScript[] {
  return [...registry.values()];
}

type ScriptCommand = (...keysAndArgs: Arg[]) => Promise<unknown>;

/**
 * Defines scripts on a client (ioredis `defineCommand`: EVALSHA, and EVAL once on NOSCRIPT).
 * Each store does so for its own scripts when it is constructed, before any command is sent:
 * an auto-pipeline made before a definition would not know the command.
 */
export function defineScripts(
  client: Redis | Cluster,
  scripts: readonly AnyScript[],
): void {
  let names = defined.get(client);
  if (!names) defined.set(client, (names = new Set()));
  for (const script of scripts) {
    if (names.has(script.name)) continue;
    client.defineCommand(script.name, {
      lua: script.lua,
      numberOfKeys: script.numberOfKeys,
    });
    names.add(script.name);
  }
}

/** Runs a script, defined on the client by its store, with its keys named by `facts`. */
export function runScript<Facts extends unknown[], Args extends unknown[], R>(
  client: Redis | Cluster,
  script: RedisScript<Facts, Args, R>,
  facts: Facts,
  ...args: Args
): Promise<R> {
  if (!defined.get(client)?.has(script.name))
    return Promise.reject(
      new Error(`Redis script "${script.name}" is not defined on this client`),
    );
  const command = (client as unknown as Record<string, ScriptCommand>)[
    script.name
  ];
  return command
    .call(client, ...script.keys(...facts), ...script.argv(...args))
    .then(script.reply);
}

export const replyNothing = (): void => undefined;
export const replyNumber = (raw: unknown): number => Number(raw);

/** HGETALL's flat `[field, value, ...]` reply, as an object. */
export function replyPairs(raw: unknown): Record<string, string> {
  const flat = Array.isArray(raw) ? (raw as string[]) : [];
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return fields;
}
