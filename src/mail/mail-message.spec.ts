import { DomainError } from '../infra/http/domain-error.js';
import { checkMailMessage, type MailMessage } from './mail-message.js';

const GOOD: MailMessage = {
  to: 'someone@example.com',
  subject: 'Auth: Hello',
  text: 'Hello.\n\nBye.',
  html: '<p>Hello.</p>\n<p>Bye.</p>',
};

function refusal(message: Partial<MailMessage>): DomainError {
  try {
    checkMailMessage({ ...GOOD, ...message });
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(message)}`);
}

describe('checkMailMessage', () => {
  it('accepts one address, a one-line subject and both parts', () => {
    expect(() => checkMailMessage(GOOD)).not.toThrow();
    expect(() =>
      checkMailMessage({ ...GOOD, to: 'first.last+tag@sub.exämple.org' }),
    ).not.toThrow();
  });

  it.each([
    [
      'a header smuggled after the address',
      'a@b.c\r\nBcc: x@y.z',
      'to contains a line break',
    ],
    ['a bare line feed', 'a@b.c\nBcc: x@y.z', 'to contains a line break'],
    [
      'two addresses',
      'a@b.c, x@y.z',
      'to is not a single mail address such as name@example.com',
    ],
    [
      'a display name',
      'A <a@b.c>',
      'to is not a single mail address such as name@example.com',
    ],
    [
      'no domain',
      'a@',
      'to is not a single mail address such as name@example.com',
    ],
    [
      'no address at all',
      'nobody',
      'to is not a single mail address such as name@example.com',
    ],
    [
      'a quoted local part',
      '"a b"@c.d',
      'to is not a single mail address such as name@example.com',
    ],
  ])('refuses %s in `to`', (_, to, field) => {
    const error = refusal({ to });
    expect(error.code).toBe('validation_failed');
    expect(error.details.fields).toEqual([field]);
  });

  it.each([
    ['Hi\r\nBcc: x@y.z', 'subject contains a line break'],
    ['Hi\nthere', 'subject contains a line break'],
    ['Hi\u0000', 'subject contains a control character'],
    ['Hi\tthere', 'subject contains a control character'],
    ['   ', 'subject is empty'],
    ['x'.repeat(201), 'subject is longer than 200 characters'],
  ])('refuses the subject %p', (subject, field) => {
    expect(refusal({ subject }).details.fields).toEqual([field]);
  });

  it('refuses empty or oversized parts and control characters in them', () => {
    expect(refusal({ text: '' }).details.fields).toEqual(['text is empty']);
    expect(refusal({ html: 'x'.repeat(100_001) }).details.fields).toEqual([
      'html is longer than 100000 characters',
    ]);
    expect(refusal({ text: 'a\u0007b' }).details.fields).toEqual([
      'text contains a control character',
    ]);
  });

  it('names every problem at once, and never the address', () => {
    const error = refusal({
      to: 'secret-person@b.c\r\nBcc: x@y.z',
      subject: 'a\r\nb',
    });
    expect(error.details.fields).toEqual([
      'to contains a line break',
      'subject contains a line break',
    ]);
    expect(JSON.stringify(error.details)).not.toContain('secret-person');
  });
});
