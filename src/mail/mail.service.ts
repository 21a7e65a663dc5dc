import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../infra/config/app-config.js';
import type { Tx } from '../infra/db/database.js';
import { MailCipher } from './mail-cipher.js';
import { checkMailMessage, type MailMessage } from './mail-message.js';
import { MailOutboxStore } from './mail-outbox.store.js';
import { MailSender, type MailBacklog } from './mail-sender.js';

/** How soon after a queueing in someone's transaction the sender looks (the commit comes first). */
const AFTER_COMMIT_MS = 100;

/**
 * What the flows call to send mail. A message is checked (one recipient, no line break in a
 * header), encrypted and written to the outbox; the sender of some instance delivers it. With
 * MAIL=off nothing may be queued: a flow that mails answers 404 instead (`enabled`).
 */
@Injectable()
export class MailService {
  constructor(
    private readonly config: AppConfig,
    private readonly store: MailOutboxStore,
    private readonly cipher: MailCipher,
    private readonly sender: MailSender,
  ) {}

  /** False with MAIL=off: every mail feature is off. */
  get enabled(): boolean {
    return this.config.mail.enabled;
  }

  /**
   * Queues `message` in the caller's transaction: it is sent once that commits (within a
   * couple of seconds), and never if it rolls back. Use it for a mail that carries what the
   * same transaction writes, such as a token. The id of the outbox row.
   */
  async enqueueIn(tx: Tx, message: MailMessage): Promise<string> {
    const id = randomUUID();
    await this.store.insert(tx, this.sealed(id, message));
    this.sender.wake(AFTER_COMMIT_MS);
    return id;
  }

  /** Queues `message` on its own; sent at once. The id of the outbox row. */
  async enqueue(message: MailMessage): Promise<string> {
    const id = randomUUID();
    await this.store.insertAlone(this.sealed(id, message));
    this.sender.wake();
    return id;
  }

  /** The outbox's backlog as last counted, for /health; undefined with MAIL=off or while unknown. */
  backlog(): MailBacklog | undefined {
    return this.enabled ? this.sender.backlog() : undefined;
  }

  private sealed(id: string, message: MailMessage) {
    if (!this.enabled)
      throw new Error('Mail is off (MAIL=off): nothing may be queued');
    checkMailMessage(message);
    const { payload, keyId } = this.cipher.seal(id, message.to, {
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
    return { id, recipient: message.to, payload, keyId };
  }
}
