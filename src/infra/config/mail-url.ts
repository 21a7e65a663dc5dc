import { isIP } from 'node:net';

/** Where mail goes, as MAIL_URL says. */
export type MailTransportConfig =
  | {
      kind: 'smtp';
      host: string;
      port: number;
      /** smtps: TLS from the first byte; smtp: STARTTLS. */
      secure: boolean;
      /**
       * Refuse to go on unless STARTTLS succeeds: set whenever there are credentials to send and
       * the server is not on this machine, so a password never crosses a network in clear.
       */
      requireTls: boolean;
      user?: string;
      password?: string;
    }
  /** Development: each message an `.eml` file in `dir`. */
  | { kind: 'file'; dir: string }
  /** Development: each message written to the log. */
  | { kind: 'console' };

const SMTP_PORTS = { 'smtp:': 587, 'smtps:': 465 } as const;

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.localdomain']);

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (LOOPBACK_NAMES.has(bare.toLowerCase())) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

function decoded(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/**
 * MAIL_URL read into a transport, or the problem with it. Problems never quote the value: it
 * may hold a password.
 */
export function parseMailUrl(
  raw: string,
): { transport: MailTransportConfig } | { problem: string } {
  const value = raw.trim();
  if (value === 'console:') return { transport: { kind: 'console' } };
  if (value.startsWith('file:')) {
    const dir = value.slice('file:'.length);
    if (dir.startsWith('//'))
      return {
        problem: 'must name a directory as file:DIR (e.g. file:.data/mail)',
      };
    return dir.length > 0 && !/[\0\r\n]/.test(dir)
      ? { transport: { kind: 'file', dir } }
      : { problem: 'must name a directory after file: (e.g. file:.data/mail)' };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: 'is not a URL' };
  }
  const scheme = url.protocol;
  if (scheme !== 'smtp:' && scheme !== 'smtps:')
    return {
      problem:
        'must start with smtp://, smtps://, file: or console: (e.g. smtp://user:password@mail.example.com:587)',
    };
  if (!url.hostname) return { problem: 'names no host' };
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash)
    return {
      problem: 'must be only smtp(s)://[user:password@]host[:port]',
    };
  const user = decoded(url.username);
  const password = decoded(url.password);
  if (user === undefined || password === undefined)
    return { problem: 'holds a badly escaped user or password' };
  if (password && !user) return { problem: 'has a password but no user' };
  const secure = scheme === 'smtps:';
  return {
    transport: {
      kind: 'smtp',
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : SMTP_PORTS[scheme],
      secure,
      requireTls: !secure && Boolean(user) && !isLoopback(url.hostname),
      ...(user ? { user, password } : {}),
    },
  };
}

/** The transport as a log line may show it: never the password. */
export function describeMailTransport(transport: MailTransportConfig): string {
  switch (transport.kind) {
    case 'console':
      return 'console: (written to the log, not sent)';
    case 'file':
      return `file:${transport.dir} (written as .eml files, not sent)`;
    case 'smtp': {
      const scheme = transport.secure ? 'smtps' : 'smtp';
      const host = transport.host.includes(':')
        ? `[${transport.host}]`
        : transport.host;
      const user = transport.user
        ? `${encodeURIComponent(transport.user)}${transport.password ? ':***' : ''}@`
        : '';
      const tls = transport.secure
        ? 'TLS'
        : transport.requireTls
          ? 'STARTTLS required'
          : 'STARTTLS when offered';
      return `${scheme}://${user}${host}:${transport.port} (${tls})`;
    }
  }
}
