import { mailAddressProblem } from '../infra/config/mail-address.js';
import { DomainError } from '../infra/http/domain-error.js';

/** One mail, as the flows build it (through MailComposer) and the outbox keeps it. */
export interface MailMessage {
  /** One bare address: `name@example.com`. */
  to: string;
  subject: string;
  text: string;
  html: string;
}

const MAX_SUBJECT = 200;
/** Far above any message this service writes; a bigger one is a bug, not a mail. */
const MAX_BODY = 100_000;
/** Any control character but tab, line feed and carriage return (allowed in the bodies only). */
const CONTROL = /[^\P{Cc}\t\n\r]/u;

function problems(message: MailMessage): string[] {
  const found: string[] = [];
  const to = mailAddressProblem(message.to);
  if (to) found.push(`to ${to}`);
  if (/[\r\n]/.test(message.subject))
    found.push('subject contains a line break');
  else if (CONTROL.test(message.subject) || message.subject.includes('\t'))
    found.push('subject contains a control character');
  if (message.subject.trim().length === 0) found.push('subject is empty');
  if (message.subject.length > MAX_SUBJECT)
    found.push(`subject is longer than ${MAX_SUBJECT} characters`);
  for (const part of ['text', 'html'] as const) {
    if (message[part].trim().length === 0) found.push(`${part} is empty`);
    if (message[part].length > MAX_BODY)
      found.push(`${part} is longer than ${MAX_BODY} characters`);
    if (CONTROL.test(message[part]))
      found.push(`${part} contains a control character`);
  }
  return found;
}

/**
 * Refuses, before anything is queued, a message whose recipient is not one address or whose
 * subject could carry a header (a line break): `a@b.c\r\nBcc: x@y.z` never becomes a second
 * recipient. A DomainError, so a value that slipped past a route's validation is a 400.
 */
export function checkMailMessage(message: MailMessage): void {
  const found = problems(message);
  if (found.length > 0)
    throw new DomainError('validation_failed', 'The mail cannot be sent', {
      fields: found,
    });
}
