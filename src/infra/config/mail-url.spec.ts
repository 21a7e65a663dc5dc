import { describeMailTransport, parseMailUrl } from './mail-url.js';

function transport(raw: string) {
  const parsed = parseMailUrl(raw);
  if ('problem' in parsed) throw new Error(parsed.problem);
  return parsed.transport;
}

function requiresTls(raw: string): boolean {
  const t = transport(raw);
  if (t.kind !== 'smtp') throw new Error(`${raw} is not SMTP`);
  return t.requireTls;
}

describe('parseMailUrl', () => {
  it('defaults the port: 587 for smtp (STARTTLS), 465 for smtps (TLS)', () => {
    expect(transport('smtp://mail.example.com')).toMatchObject({
      port: 587,
      secure: false,
    });
    expect(transport('smtps://mail.example.com')).toMatchObject({
      port: 465,
      secure: true,
    });
  });

  it('requires STARTTLS when a password would otherwise cross a network in clear', () => {
    expect(requiresTls('smtp://u:p@mail.example.com')).toBe(true);
    expect(requiresTls('smtp://u@mail.example.com')).toBe(true);
    expect(requiresTls('smtp://mail.example.com')).toBe(false);
    expect(requiresTls('smtps://u:p@mail.example.com')).toBe(false);
    for (const local of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]'])
      expect(requiresTls(`smtp://u:p@${local}:1025`)).toBe(false);
  });

  it('decodes the user and password', () => {
    expect(transport('smtp://me%40example.com:a%2Fb%3Ac@h')).toMatchObject({
      user: 'me@example.com',
      password: 'a/b:c',
    });
  });

  it('reads file:DIR, relative or absolute, and console:', () => {
    expect(transport('file:.data/mail')).toEqual({
      kind: 'file',
      dir: '.data/mail',
    });
    expect(transport('file:/var/mail/auth')).toEqual({
      kind: 'file',
      dir: '/var/mail/auth',
    });
    expect(transport(' console: ')).toEqual({ kind: 'console' });
  });

  it.each([
    ['file://host/dir', 'file:DIR'],
    ['file:', 'directory'],
    ['smtp://h/path', 'only'],
    ['smtp://h?pool=true', 'only'],
    ['smtp://h#x', 'only'],
    ['smtp://:p@h', 'no user'],
    ['imap://h', 'must start with'],
    ['h:25', 'must start with'],
    ['', 'is not a URL'],
  ])('refuses %p', (raw, problem) => {
    const parsed = parseMailUrl(raw);
    expect('problem' in parsed && parsed.problem).toContain(problem);
  });
});

describe('describeMailTransport', () => {
  it('shows where mail goes, never the password', () => {
    expect(
      describeMailTransport(transport('smtp://mailer:s3cret@mail.example.com')),
    ).toBe('smtp://mailer:***@mail.example.com:587 (STARTTLS required)');
    expect(
      describeMailTransport(
        transport('smtps://me%40x.com:s3cret@[2001:db8::1]'),
      ),
    ).toBe('smtps://me%40x.com:***@[2001:db8::1]:465 (TLS)');
    expect(describeMailTransport(transport('smtp://relay:25'))).toBe(
      'smtp://relay:25 (STARTTLS when offered)',
    );
    expect(describeMailTransport(transport('file:.data/mail'))).toContain(
      'file:.data/mail',
    );
  });
});
