import { Injectable } from '@nestjs/common';
import { AppConfig } from '../infra/config/app-config.js';
import type { MailMessage } from './mail-message.js';

/** What a flow says in a mail; the composer turns it into both parts. All of it is plain text. */
export interface MailContent {
  /** The subject without the service's name, which the composer puts in front. */
  subject: string;
  /** Paragraphs before the action. */
  paragraphs: string[];
  /** The one link of the mail, if any: made by `MailComposer.link`, so it points at this service. */
  action?: { label: string; url: string };
  /** Paragraphs after the action, such as "If you did not ask for this, ignore this mail." */
  after?: string[];
}

/** Text for HTML element content and double-quoted attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Builds the messages the flows queue: a plain-text part and an HTML part that say the same,
 * the service's name in the subject, nothing loaded from anywhere (no images, no stylesheets,
 * no tracking pixel) and no link but the action's, which must point at this service.
 */
@Injectable()
export class MailComposer {
  constructor(private readonly config: AppConfig) {}

  private get settings() {
    const { mail } = this.config;
    if (!mail.enabled) throw new Error('Mail is off (MAIL=off)');
    return mail;
  }

  private get serviceName(): string {
    return this.settings.serviceName;
  }

  private get linkBase(): string {
    return this.settings.linkBase;
  }

  /**
   * An absolute link to `path` on this service, made from PUBLIC_URL (never from a request's
   * Host header). Values go in the query, escaped.
   */
  link(path: string, query: Record<string, string> = {}): string {
    if (!path.startsWith('/') || path.startsWith('//'))
      throw new Error(`A mail link's path must start with one "/": ${path}`);
    const url = new URL(path, this.linkBase);
    for (const [name, value] of Object.entries(query))
      url.searchParams.set(name, value);
    return url.href;
  }

  compose(to: string, content: MailContent): MailMessage {
    if (content.action && !this.isOwnLink(content.action.url))
      throw new Error(
        'A mail may only link to this service (MailComposer.link)',
      );
    const after = content.after ?? [];
    const text = [
      ...content.paragraphs,
      ...(content.action
        ? [`${content.action.label}:\n${content.action.url}`]
        : []),
      ...after,
      `-- \n${this.serviceName}`,
    ].join('\n\n');
    const paragraph = (p: string) =>
      `<p style="margin:0 0 16px">${escapeHtml(p)}</p>`;
    const action = content.action
      ? `<p style="margin:0 0 16px"><a href="${escapeHtml(content.action.url)}" style="display:inline-block;padding:10px 16px;background:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:4px">${escapeHtml(content.action.label)}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#555555">${escapeHtml(content.action.url)}</p>`
      : '';
    const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(content.subject)}</title>
</head>
<body style="margin:0;padding:24px;font-family:sans-serif;font-size:15px;line-height:1.5;color:#111111">
${content.paragraphs.map(paragraph).join('\n')}
${action}
${after.map(paragraph).join('\n')}
<p style="margin:24px 0 0;font-size:13px;color:#555555">${escapeHtml(this.serviceName)}</p>
</body>
</html>
`;
    return {
      to,
      subject: `${this.serviceName}: ${content.subject}`,
      text,
      html,
    };
  }

  private isOwnLink(url: string): boolean {
    try {
      const parsed = new URL(url);
      return parsed.origin === new URL(this.linkBase).origin;
    } catch {
      return false;
    }
  }
}
