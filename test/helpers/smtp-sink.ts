import { simpleParser, type ParsedMail } from 'mailparser';
import {
  SMTPServer,
  type SMTPServerDataStream,
  type SMTPServerError,
  type SMTPServerSession,
} from 'smtp-server';
import { freePort } from '../harness/free-port.mjs';
import { eventually, waitUntil } from './waiting.js';

/** One message the sink accepted, as it came over SMTP and as mailparser reads it. */
export interface ReceivedMail {
  /** The envelope: what MAIL FROM and RCPT TO said, whatever the headers say. */
  envelopeFrom: string;
  envelopeTo: string[];
  /** What the client logged in with, if it did. */
  login?: { username?: string; password?: string | null };
  parsed: ParsedMail;
  raw: string;
}

/** What the sink answers at the end of DATA. */
type Answer =
  | { kind: 'accept' }
  | { kind: 'refuse'; code: number; message: string }
  | { kind: 'hold' };

interface Held {
  mail: ReceivedMail;
  callback: (err?: Error | null) => void;
}

/**
 * A real SMTP server on a port of its own, for tests that send mail: it accepts any login,
 * reads each message with mailparser and lets a test wait for what arrived. It can go down and
 * come back on the same port (an outage), refuse with a 4xx or 5xx, or hold messages without
 * answering (a send in flight).
 */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  private server?: SMTPServer;
  private answer: Answer = { kind: 'accept' };
  private held: Held[] = [];
  /** Messages that reached the end of DATA, whatever the answer. */
  private offered = 0;

  private constructor(readonly port: number) {}

  static async start(): Promise<SmtpSink> {
    const sink = new SmtpSink(await freePort());
    await sink.up();
    return sink;
  }

  /** A MAIL_URL for the sink, with a login (which it accepts, whatever it is). */
  url(user = 'mailer', password = 'sink-password'): string {
    return `smtp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${this.port}`;
  }

  /** Starts listening (again, after `down`) on the same port. */
  async up(): Promise<void> {
    if (this.server) return;
    const server = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 10,
      onAuth: (auth, _session, callback) =>
        callback(null, {
          user: { username: auth.username, password: auth.password },
        }),
      onData: (stream, session, callback) =>
        void this.read(stream, session, callback),
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  /** Stops listening and cuts every connection; a held message is dropped, never accepted. */
  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.held = [];
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Answers every further message with `code` (4xx: try again later; 5xx: never). */
  refuse(code: number, message = 'Not now'): void {
    this.answer = { kind: 'refuse', code, message };
  }

  /** Reads further messages and leaves the client waiting for the answer. */
  hold(): void {
    this.answer = { kind: 'hold' };
  }

  /** Accepts further messages (held ones stay unanswered: see `release`). */
  accept(): void {
    this.answer = { kind: 'accept' };
  }

  /** Accepts the held messages, answering their clients at last. */
  release(): void {
    for (const { mail, callback } of this.held.splice(0)) {
      this.received.push(mail);
      callback();
    }
  }

  /** How many messages reached the end of DATA, accepted or not. */
  get attempts(): number {
    return this.offered;
  }

  /** How many are held, waiting for their answer. */
  get holding(): number {
    return this.held.length;
  }

  /** The accepted messages whose envelope names `address`. */
  to(address: string): ReceivedMail[] {
    return this.received.filter((mail) => mail.envelopeTo.includes(address));
  }

  /** The first accepted message to `address`, once there is one. */
  async first(address: string, timeoutMs = 10_000): Promise<ReceivedMail> {
    return eventually(
      async () => this.to(address)[0],
      `a mail to ${address}`,
      timeoutMs,
      20,
    );
  }

  /** Waits until `count` messages in all have been accepted. */
  async waitForCount(count: number, timeoutMs = 15_000): Promise<void> {
    await waitUntil(
      async () => this.received.length >= count,
      () => `${count} mails (the sink has ${this.received.length})`,
      timeoutMs,
      20,
    );
  }

  async close(): Promise<void> {
    await this.down();
  }

  private async read(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null) => void,
  ): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    this.offered++;
    const mail: ReceivedMail = {
      envelopeFrom: session.envelope.mailFrom
        ? session.envelope.mailFrom.address
        : '',
      envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
      login: session.user as ReceivedMail['login'],
      parsed: await simpleParser(raw),
      raw,
    };
    const answer = this.answer;
    if (answer.kind === 'accept') {
      this.received.push(mail);
      callback();
    } else if (answer.kind === 'refuse') {
      const err: SMTPServerError = new Error(answer.message);
      err.responseCode = answer.code;
      callback(err);
    } else {
      this.held.push({ mail, callback });
    }
  }
}
