import { loadConfig } from '../infra/config/app-config.js';
import { MailComposer } from './mail-composer.js';
import { checkMailMessage } from './mail-message.js';

const composer = new MailComposer(
  loadConfig({
    SERVICE_NAME: 'Example ID',
    PUBLIC_URL: 'https://id.example.com',
  }),
);

describe('MailComposer', () => {
  it('makes links from PUBLIC_URL, values escaped in the query', () => {
    expect(composer.link('/auth/reset', { token: 'a b&c=d/e' })).toBe(
      'https://id.example.com/auth/reset?token=a+b%26c%3Dd%2Fe',
    );
    expect(composer.link('/account')).toBe('https://id.example.com/account');
  });

  it.each(['auth/reset', '//evil.example/x', 'https://evil.example/x'])(
    'refuses a link path %p that could leave the service',
    (path) => {
      expect(() => composer.link(path)).toThrow(/path/);
    },
  );

  it('puts the service name in front of the subject', () => {
    const message = composer.compose('a@example.com', {
      subject: 'Reset your password',
      paragraphs: ['Hello.'],
    });
    expect(message.subject).toBe('Example ID: Reset your password');
    expect(message.to).toBe('a@example.com');
  });

  it('says the same in both parts, the action as a link and as its address', () => {
    const url = composer.link('/auth/reset', { token: 't1' });
    const message = composer.compose('a@example.com', {
      subject: 'Reset your password',
      paragraphs: ['Someone asked to reset it.', 'It works once.'],
      action: { label: 'Choose a new password', url },
      after: ['If it was not you, ignore this mail.'],
    });
    expect(message.text).toBe(
      [
        'Someone asked to reset it.',
        'It works once.',
        `Choose a new password:\n${url}`,
        'If it was not you, ignore this mail.',
        '-- \nExample ID',
      ].join('\n\n'),
    );
    for (const part of [
      'Someone asked to reset it.',
      'It works once.',
      `<a href="${url}"`,
      '>Choose a new password</a>',
      'If it was not you, ignore this mail.',
    ])
      expect(message.html).toContain(part);
    expect(() => checkMailMessage(message)).not.toThrow();
  });

  it('escapes everything it puts into the HTML part', () => {
    const message = composer.compose('a@example.com', {
      subject: '<i>Hi</i>',
      paragraphs: [`<img src="https://tracker.example/p.gif"> & 'x'`],
      action: {
        label: '<b>Go</b>',
        url: composer.link('/x', { q: '"><script>alert(1)</script>' }),
      },
    });
    expect(message.html).not.toMatch(/<img|<script|<b>|<i>/);
    expect(message.html).toContain(
      '&#60;img src=&#34;https://tracker.example/p.gif&#34;&#62; &#38; &#39;x&#39;',
    );
    expect(message.html).toContain('<title>&#60;i&#62;Hi&#60;/i&#62;</title>');
    expect(message.html).toContain('&#60;b&#62;Go&#60;/b&#62;');
    expect(message.text).toContain(`<img src="https://tracker.example/p.gif">`);
  });

  it('loads nothing from elsewhere: no image, stylesheet, script or frame', () => {
    const message = composer.compose('a@example.com', {
      subject: 'Hi',
      paragraphs: ['Hello.'],
      action: { label: 'Open', url: composer.link('/account') },
    });
    expect(message.html).not.toMatch(/<img|<link|<script|<iframe|src=|url\(/i);
  });

  it('refuses an action that links anywhere but the service', () => {
    for (const url of [
      'https://tracker.example/click?u=1',
      'http://id.example.com/auth/reset',
      'not a url',
    ])
      expect(() =>
        composer.compose('a@example.com', {
          subject: 'Hi',
          paragraphs: ['Hello.'],
          action: { label: 'Open', url },
        }),
      ).toThrow(/only link to this service/);
  });

  it('refuses to compose with MAIL=off', () => {
    const off = new MailComposer(loadConfig({ MAIL: 'off' }));
    expect(() =>
      off.compose('a@example.com', { subject: 'Hi', paragraphs: ['x'] }),
    ).toThrow(/MAIL=off/);
  });
});
