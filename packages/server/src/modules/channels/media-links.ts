import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { FileService } from '../conversations/index.ts';

/** How long a provider may fetch a file Parley sent through a channel. */
export const MEDIA_LINK_TTL_MS = 24 * 3600_000;

/**
 * Files an agent sends through a channel are fetched by the provider (Twilio, Meta), which has no Parley
 * credentials: they get a URL signed with a server key (HMAC-SHA256 over account, file and expiry), valid for a day.
 */
export class MediaLinks {
  constructor(
    private readonly key: Buffer,
    private readonly files: FileService,
    private readonly clock: Clock,
    private readonly publicUrl: () => string,
  ) {}

  static path(accountId: string, fileId: string, expires: number, signature: string): string {
    return `/media/${accountId}/${fileId}?expires=${expires}&signature=${signature}`;
  }

  urlFor(accountId: string, fileId: string): string {
    const expires = this.clock.now().getTime() + MEDIA_LINK_TTL_MS;
    return `${this.publicUrl()}${MediaLinks.path(accountId, fileId, expires, this.sign(accountId, fileId, expires))}`;
  }

  /** Opens the file of a signed link; NOT_FOUND for a bad or expired signature (nothing is told apart). */
  async open(accountId: string, fileId: string, expires: number, signature: string): Promise<{ name: string; contentType: string; size: number; content: Readable }> {
    const expected = Buffer.from(this.sign(accountId, fileId, expires));
    const given = Buffer.from(signature);
    if (!Number.isFinite(expires) || expires < this.clock.now().getTime() || expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new AppError('NOT_FOUND', 'File not found');
    }
    return this.files.open({ kind: 'api_key', apiKeyId: 'media-link', accountId, scopes: ['conversations:read'] }, fileId);
  }

  private sign(accountId: string, fileId: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${accountId}.${fileId}.${expires}`).digest('base64url');
  }
}
