import { Injectable } from '@nestjs/common';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import { AppConfig } from '../infra/config/app-config.js';

/** What of a message is kept encrypted: everything but the recipient. */
export interface SealedContent {
  subject: string;
  text: string;
  html: string;
}

const INFO = 'session-bearer-auth mail outbox v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

interface Key {
  id: string;
  key: Buffer;
}

/**
 * Encrypts what a queued mail says (AES-256-GCM) under a key derived (HKDF-SHA256) from
 * SESSION_SECRET, so the outbox, or a dump of it, holds no link that works: a mail carries a
 * one-time token, and only the server can read it back. The first secret encrypts; every
 * secret listed decrypts, so mail queued before a rotation is still sent. The row's id and
 * recipient are bound in as associated data: a payload moved to another row, or a row whose
 * recipient was changed, does not decrypt.
 */
@Injectable()
export class MailCipher {
  private readonly keys: Key[];

  constructor(config: AppConfig) {
    this.keys = config.sessionSecrets.map((secret) => {
      const key = Buffer.from(hkdfSync('sha256', secret, '', INFO, 32));
      return {
        id: createHash('sha256').update(key).digest('hex').slice(0, 16),
        key,
      };
    });
  }

  seal(
    id: string,
    recipient: string,
    content: SealedContent,
  ): { payload: string; keyId: string } {
    const { id: keyId, key } = this.keys[0];
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(associatedData(id, recipient));
    const body = Buffer.concat([
      cipher.update(JSON.stringify(content), 'utf8'),
      cipher.final(),
    ]);
    return {
      payload: Buffer.concat([iv, cipher.getAuthTag(), body]).toString(
        'base64url',
      ),
      keyId,
    };
  }

  /** The content, or undefined when no configured secret's key opens it (or it was altered). */
  open(row: {
    id: string;
    recipient: string;
    payload: string;
    keyId: string;
  }): SealedContent | undefined {
    const key = this.keys.find((k) => k.id === row.keyId)?.key;
    if (!key) return undefined;
    const raw = Buffer.from(row.payload, 'base64url');
    try {
      const decipher = createDecipheriv(
        'aes-256-gcm',
        key,
        raw.subarray(0, IV_BYTES),
      );
      decipher.setAAD(associatedData(row.id, row.recipient));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]);
      return JSON.parse(plain.toString('utf8')) as SealedContent;
    } catch {
      return undefined;
    }
  }
}

function associatedData(id: string, recipient: string): Buffer {
  return Buffer.from(`${id}\n${recipient}`, 'utf8');
}
