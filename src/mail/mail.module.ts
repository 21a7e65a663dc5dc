import { Module } from '@nestjs/common';
import { MailCipher } from './mail-cipher.js';
import { MailComposer } from './mail-composer.js';
import { MailOutboxStore } from './mail-outbox.store.js';
import { MailSender } from './mail-sender.js';
import { MailService } from './mail.service.js';
import { MailTransport } from './mail-transport.js';

/**
 * Outgoing mail: the composer the flows build messages with, the outbox they queue them in
 * (in their own transaction when a mail carries what it writes), and the sender every
 * instance runs. With MAIL=off the sender never starts and nothing may be queued.
 */
@Module({
  providers: [
    MailCipher,
    MailComposer,
    MailOutboxStore,
    MailTransport,
    MailSender,
    MailService,
  ],
  exports: [MailService, MailComposer],
})
export class MailModule {}
