import { MODULE_METADATA } from '@nestjs/common/constants.js';
import { readFileSync } from 'node:fs';
import { AccountModule } from './account/account.module.js';
import { AdminModule } from './admin/admin.module.js';
import { AuthModule } from './auth/auth.module.js';
import { CredentialsModule } from './credentials/credentials.module.js';
import { EventsModule } from './events/events.module.js';
import { LoginModule } from './login/login.module.js';
import { MailModule } from './mail/mail.module.js';
import { OAuthModule } from './oauth/oauth.module.js';
import { OpsModule } from './ops/ops.module.js';
import { UsersModule } from './users/users.module.js';
import { WebModule } from './web/web.module.js';

/** The feature modules, top to bottom; the global infrastructure modules are left out. */
const FEATURES = [
  WebModule,
  AdminModule,
  AccountModule,
  OAuthModule,
  OpsModule,
  LoginModule,
  AuthModule,
  CredentialsModule,
  UsersModule,
  MailModule,
  EventsModule,
];

const README = new URL('../README.md', import.meta.url);
const START = '<!-- module-graph:start -->';
const END = '<!-- module-graph:end -->';

/** The mermaid picture of which feature module imports which, from the `@Module` metadata. */
function moduleGraph(): string {
  const lines = ['```mermaid', 'flowchart TD'];
  for (const module of FEATURES) {
    const imports = (Reflect.getMetadata(MODULE_METADATA.IMPORTS, module) ??
      []) as unknown[];
    const targets = FEATURES.filter((other) => imports.includes(other));
    if (targets.length === 0 && !lines.some((l) => l.includes(module.name)))
      lines.push(`  ${module.name}`);
    for (const target of targets)
      lines.push(`  ${module.name} --> ${target.name}`);
  }
  lines.push('```');
  return lines.join('\n');
}

describe('module graph', () => {
  it("is the README's picture", () => {
    const readme = readFileSync(README, 'utf8');
    const drawn = readme
      .slice(readme.indexOf(START) + START.length, readme.indexOf(END))
      .trim();
    const expected = moduleGraph();
    if (drawn !== expected)
      throw new Error(
        `The README's module graph differs from the code; put this between the module-graph markers:\n\n${expected}\n`,
      );
  });

  it('is acyclic', () => {
    const visiting = new Set<unknown>();
    const done = new Set<unknown>();
    const visit = (module: object, path: string[]): void => {
      if (done.has(module)) return;
      if (visiting.has(module)) throw new Error(`cycle: ${path.join(' -> ')}`);
      visiting.add(module);
      const imports = (Reflect.getMetadata(MODULE_METADATA.IMPORTS, module) ??
        []) as object[];
      for (const next of imports)
        visit(next, [...path, (next as { name?: string }).name ?? '?']);
      visiting.delete(module);
      done.add(module);
    };
    for (const module of FEATURES) visit(module, [module.name]);
  });
});
