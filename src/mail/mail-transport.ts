import { Injectable, Logger } from '@nestjs/common';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import {
  AppConfig,
  type MailTransportConfig,
} from '../infra/config/app-config.js';
import { describeMailTransport } from '../infra/config/mail-url.js';
import type { MailMessage } from './mail-message.js';

/** Bounds on each step of an SMTP conversation; a send as a whole is bounded by the sender. */
const CONNECTION_TIMEOUT_MS = 10_000;
const GREETING_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 30_000;
const LINK = /https?:\/\/[^\s<>"]+/g;

interface NodemailerFailure {
  code?: unknown;
  responseCode?: unknown;
  message?: unknown;
}

/**
 * Nodemailer, set up from MAIL_URL: a small SMTP pool (smtp:, smtps:), or, in development,
 * messages rendered and written to `.eml` files (file:) or to the log (console:), with their
 * links logged so a developer can follow them. No attachments are read from files or URLs.
 */
@Injectable()
export class MailTransport {
  private readonly logger = new Logger('Mail');
  private readonly transport: MailTransportConfig;
  private readonly transporter: Transporter;
  private readonly from: { name: string; address: string };
  private dirReady?: Promise<unknown>;

  constructor(config: AppConfig) {
    const { mail } = config;
    this.transport = mail.enabled ? mail.transport : { kind: 'console' };
    this.from = mail.enabled
      ? { name: mail.serviceName, address: mail.from }
      : { name: '', address: 'no-reply@localhost' };
    const t = this.transport;
    this.transporter =
      t.kind === 'smtp'
        ? nodemailer.createTransport({
            pool: true,
            maxConnections: 2,
            host: t.host,
            port: t.port,
            secure: t.secure,
            requireTLS: t.requireTls,
            auth: t.user ? { user: t.user, pass: t.password ?? '' } : undefined,
            connectionTimeout: CONNECTION_TIMEOUT_MS,
            greetingTimeout: GREETING_TIMEOUT_MS,
            socketTimeout: SOCKET_TIMEOUT_MS,
            disableFileAccess: true,
            disableUrlAccess: true,
          })
        : nodemailer.createTransport({
            streamTransport: true,
            buffer: true,
            newline: 'unix',
            disableFileAccess: true,
            disableUrlAccess: true,
          });
  }

  /** Where mail goes, for the boot log: never the password. */
  describe(): string {
    return `${describeMailTransport(this.transport)}, from "${this.from.name}" <${this.from.address}>`;
  }

  /**
   * Sends (or writes) one message. The Message-ID is made from the outbox row's id, so a mail
   * sent twice (an instance died between sending and recording it) is one message to the
   * reader's client. The envelope names the one recipient, whatever the headers say.
   */
  async send(
    id: string,
    message: MailMessage,
    signal: AbortSignal,
  ): Promise<void> {
    const info = await this.transporter.sendMail({
      from: this.from,
      to: message.to,
      envelope: { from: this.from.address, to: [message.to] },
      subject: message.subject,
      text: message.text,
      html: message.html,
      messageId: `<${id}@${this.from.address.split('@')[1]}>`,
      headers: { 'Auto-Submitted': 'auto-generated' },
      signal,
    });
    if (this.transport.kind === 'file') {
      const dir = this.transport.dir;
      this.dirReady ??= mkdir(dir, { recursive: true });
      await this.dirReady;
      const file = join(dir, `${id}.eml`);
      await writeFile(file, info.message as Buffer);
      this.logger.log(
        `Mail to ${message.to} ("${message.subject}") written to ${file}${linksOf(message.text)}`,
      );
    } else if (this.transport.kind === 'console') {
      this.logger.log(
        `Mail to ${message.to} ("${message.subject}")${linksOf(message.text)}\n${message.text}`,
      );
    }
  }

  /** Stops the pool: idle connections at once; with `force`, those mid-delivery too. */
  close(force = false): void {
    const transport = this.transporter.transporter as {
      close?: (options?: { force?: boolean }) => void;
    };
    transport.close?.({ force });
  }

  /**
   * A refusal that a retry would get again: a 5xx answer to the sender, a recipient or the
   * message (a 503, out of sequence, excepted). Connection trouble, a 4xx, a failed login or
   * TLS trouble may pass: they are retried.
   */
  isPermanent(err: unknown): boolean {
    const { code, responseCode } = (err ?? {}) as NodemailerFailure;
    return (
      (code === 'EENVELOPE' || code === 'EMESSAGE') &&
      typeof responseCode === 'number' &&
      responseCode >= 500 &&
      responseCode !== 503
    );
  }

  /** The error as the log and the outbox may hold it: its message, never MAIL_URL's password. */
  reason(err: unknown): string {
    const { code, message } = (err ?? {}) as NodemailerFailure;
    let text = typeof message === 'string' && message ? message : String(err);
    if (typeof code === 'string' && !text.includes(code))
      text = `${code}: ${text}`;
    const t = this.transport;
    if (t.kind === 'smtp' && t.password)
      for (const secret of new Set([
        t.password,
        encodeURIComponent(t.password),
        Buffer.from(t.password).toString('base64'),
      ]))
        text = text.split(secret).join('***');
    return text.slice(0, 500);
  }
}

function linksOf(text: string): string {
  const links = text.match(LINK) ?? [];
  return links.length > 0 ? `; links: ${links.join(' ')}` : '';
}
