/**
 * The kinds of value an environment variable holds. Each reads the string (a transform),
 * then checks what it read, with messages that follow the variable's name.
 *
 * Decorators stacked on a property register bottom-up, and validation stops at a property's
 * first failed check; so a kind with several checks is one composite, whose steps run in the
 * order written here, and a schema property carries one composite or one transform and one check.
 */
import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import {
  ArrayNotEmpty,
  ArrayUnique,
  IsBoolean,
  IsInt,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import { mailAddressProblem } from './mail-address.js';
import { parseMailUrl } from './mail-url.js';

/** One `host:port` of REDIS_CLUSTER_NODES or REDIS_SENTINELS. */
export interface RedisNode {
  host: string;
  port: number;
}

export interface IntrospectionClient {
  id: string;
  secret: string;
}

/**
 * Messages that quote the value are functions: class-validator would read `$` in a value
 * substituted into a string message as a replacement pattern.
 */
type Message = NonNullable<ValidationOptions['message']>;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;

/** Whole numbers are digits only: `1e3`, ` 80` and `80.5` stay strings, which the check refuses. */
const digits = (value: unknown): unknown =>
  typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;

function parseUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

/** `raw` as an http(s) origin (a trailing slash allowed), or undefined when it is not one. */
function toOrigin(raw: string): string | undefined {
  const url = parseUrl(raw);
  return url &&
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.origin === raw.replace(/\/$/, '')
    ? url.origin
    : undefined;
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+)):(\d{1,5})$/;

function toRedisNode(entry: string): RedisNode | undefined {
  const match = HOST_PORT.exec(entry);
  const port = Number(match?.[3]);
  return match && port >= 1 && port <= 65_535
    ? { host: match[1] ?? match[2], port }
    : undefined;
}

function toClient(pair: string): IntrospectionClient | undefined {
  const colon = pair.indexOf(':');
  const id = pair.slice(0, colon);
  const secret = pair.slice(colon + 1);
  return colon >= 1 && /^[A-Za-z0-9_.-]{1,64}$/.test(id) && secret.length >= 16
    ? { id, secret }
    : undefined;
}

/**
 * A comma-separated list, entries trimmed and empty ones dropped, each read with `read`; an
 * entry `read` cannot read stays the string it was, for the check to name. Blank means unset.
 */
function ListOf(read: (entry: string) => unknown): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => {
    const raw = text(value);
    if (!raw?.trim()) return undefined;
    return raw
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0)
      .map((entry) => read(entry) ?? entry);
  });
}

/** Passes when every entry passes `check`; the message names the first that does not. */
function EveryEntry(
  check: (entry: unknown) => boolean,
  problem: (entry: unknown) => string,
): PropertyDecorator {
  return ValidateBy({
    name: 'everyEntry',
    validator: {
      validate: (value: unknown) => Array.isArray(value) && value.every(check),
      defaultMessage: (args?: ValidationArguments) =>
        problem((args?.value as unknown[]).find((entry) => !check(entry))),
    },
  });
}

function wholeNumberChecks(
  min: number,
  max: number,
  messages: { notWhole?: Message; belowMin?: Message },
): PropertyDecorator[] {
  const between = `must be between ${min} and ${max}`;
  return [
    IsInt({
      message:
        messages.notWhole ??
        (({ value }) => `must be a whole number, got "${String(value)}"`),
    }),
    Min(min, { message: messages.belowMin ?? between }),
    Max(max, { message: between }),
  ];
}

export function WholeNumber(
  min: number,
  max: number,
  messages: { belowMin?: Message } = {},
): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => digits(value)),
    ...wholeNumberChecks(min, max, messages),
  );
}

const OFF = ['off', 'false', '0'];
const ON = ['on', 'true', '1'];

/** `on`, `true` or `1`; `off`, `false` or `0`; in any case. */
export function OnOff(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => {
      const word = text(value)?.trim().toLowerCase() ?? '';
      return ON.includes(word) ? true : OFF.includes(word) ? false : value;
    }),
    IsBoolean({
      message: ({ value }) => `must be on or off, got "${String(value)}"`,
    }),
  );
}

/** `off` (`false`, `0`) or a number of hops; `true` is one hop. */
export function OffOrHops(max: number): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) =>
      OFF.includes(text(value) ?? '')
        ? false
        : value === 'true'
          ? 1
          : digits(value),
    ),
    ValidateIf((_, value) => value !== false),
    ...wholeNumberChecks(1, max, { notWhole: 'must be off or a hop count' }),
  );
}

export function Trimmed(): PropertyDecorator {
  return Transform(
    ({ value }: { value: unknown }) => text(value)?.trim() || undefined,
  );
}

export function CommaList(): PropertyDecorator {
  return ListOf((entry) => entry);
}

/** A URL with one of `schemes` (`redis`, `postgres`, ...), kept as written. */
export function UrlWithScheme(...schemes: string[]): PropertyDecorator {
  return ValidateBy({
    name: 'urlWithScheme',
    validator: {
      validate: (value: unknown) =>
        schemes.some(
          (scheme) => parseUrl(text(value) ?? '')?.protocol === `${scheme}:`,
        ),
      defaultMessage: (args?: ValidationArguments) =>
        parseUrl(text(args?.value) ?? '')
          ? `must start with ${schemes.map((s) => `${s}://`).join(' or ')}`
          : 'is not a URL',
    },
  });
}

/** One http(s) origin, read without its trailing slash. */
export function Origin(example: string): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => {
      const raw = text(value)?.trim();
      return raw ? (toOrigin(raw) ?? raw) : undefined;
    }),
    ValidateBy({
      name: 'origin',
      validator: {
        validate: (value: unknown) => toOrigin(text(value) ?? '') === value,
        defaultMessage: (args?: ValidationArguments) =>
          parseUrl(text(args?.value) ?? '')
            ? `must be an origin such as ${example}, without a path`
            : 'is not a URL',
      },
    }),
  );
}

/** Comma-separated http(s) origins, each read without its trailing slash. */
export function OriginList(example: string): PropertyDecorator {
  return applyDecorators(
    ListOf(toOrigin),
    EveryEntry(
      (entry) => toOrigin(text(entry) ?? '') === entry,
      (entry) =>
        `holds "${String(entry)}", which is not an origin such as ${example}`,
    ),
  );
}

/** Comma-separated `host:port` nodes, IPv6 hosts in brackets. */
export function HostPortList(example: string): PropertyDecorator {
  return applyDecorators(
    ListOf(toRedisNode),
    ArrayNotEmpty({ message: `must list host:port nodes, such as ${example}` }),
    EveryEntry(
      (entry) => typeof entry !== 'string',
      (entry) =>
        `holds "${String(entry)}", which is not a host:port such as ${example}`,
    ),
  );
}

/** Comma-separated `id:secret` pairs; a secret may hold colons, and no message shows one. */
export function ClientList(): PropertyDecorator {
  return applyDecorators(
    ListOf(toClient),
    EveryEntry(
      (entry) => typeof entry !== 'string',
      () =>
        'must list id:secret pairs (ids of letters, digits, "_", "." or "-"; secrets of at least 16 characters)',
    ),
    ArrayUnique((client: IntrospectionClient) => client.id, {
      message: 'lists a client id twice',
    }),
  );
}

/** MAIL_URL: smtp(s)://, file:DIR or console:, read into a transport; no message shows the value. */
export function MailUrl(): PropertyDecorator {
  const problem = (value: unknown) => {
    const parsed = parseMailUrl(text(value) ?? '');
    return 'problem' in parsed ? parsed.problem : undefined;
  };
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => {
      const raw = text(value);
      if (raw === undefined) return value;
      const parsed = parseMailUrl(raw);
      return 'transport' in parsed ? parsed.transport : raw;
    }),
    ValidateBy({
      name: 'mailUrl',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' && value !== null,
        defaultMessage: (args?: ValidationArguments) =>
          problem(args?.value) ?? 'is not a mail URL',
      },
    }),
  );
}

/** One bare mail address, trimmed. */
export function MailAddress(): PropertyDecorator {
  return applyDecorators(
    Transform(
      ({ value }: { value: unknown }) => text(value)?.trim() || undefined,
    ),
    ValidateBy({
      name: 'mailAddress',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && mailAddressProblem(value) === undefined,
        defaultMessage: (args?: ValidationArguments) =>
          mailAddressProblem(text(args?.value) ?? '') ??
          'is not a mail address',
      },
    }),
  );
}
