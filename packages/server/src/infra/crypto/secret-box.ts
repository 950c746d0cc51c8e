import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import type { Db } from '../db/database.ts';

const VERSION = 'v1';

/**
 * Encryption at rest for credentials Parley must use later (channel providers' tokens, webhook and bot signing
 * secrets): AES-256-GCM, a fresh nonce
 * per value, the record's id as associated data (a ciphertext moved to another row does not decrypt). The key comes
 * from `CREDENTIALS_KEY`; without it, from a random key kept in the database (a warning says so: then a copy of the
 * database alone holds both).
 */
export class SecretBox {
  private constructor(
    private readonly key: Buffer,
    readonly keySource: 'config' | 'database',
  ) {}

  static async create(db: Db, configuredKey: string | undefined): Promise<SecretBox> {
    if (configuredKey) return new SecretBox(createHash('sha256').update(configuredKey, 'utf8').digest(), 'config');
    await db
      .insertInto('server_secrets')
      .values({ name: 'credentials-key', value: randomBytes(32).toString('base64') })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await db.selectFrom('server_secrets').select('value').where('name', '=', 'credentials-key').executeTakeFirstOrThrow();
    return new SecretBox(Buffer.from(row.value, 'base64'), 'database');
  }

  /** A key for another purpose (e.g. signing links), derived from this one so it needs no setting of its own. */
  derivedKey(purpose: string): Buffer {
    return createHmac('sha256', this.key).update(`parley:${purpose}`).digest();
  }

  /** How a sealed value starts; `like` patterns find the rows of a column not sealed yet. */
  static readonly sealedPrefix = `${VERSION}.`;

  /** Whether a stored value is sealed, as opposed to one kept in the clear before its column was sealed. */
  static isSealed(stored: string): boolean {
    return stored.startsWith(SecretBox.sealedPrefix);
  }

  /** `open` for a column whose older rows may still hold values in the clear (those are returned as they are). */
  openStored(stored: string, associatedData: string): string {
    return SecretBox.isSealed(stored) ? this.open(stored, associatedData) : stored;
  }

  /** `v1.<nonce>.<ciphertext>.<tag>` (base64url). */
  seal(plaintext: string, associatedData: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, nonce.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string, associatedData: string): string {
    const [version, nonce, body, tag] = sealed.split('.');
    if (version !== VERSION || nonce === undefined || body === undefined || tag === undefined) throw new Error('Not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}
