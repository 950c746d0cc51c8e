import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { FileRecordSchema } from '@parley/protocol';
import { AppError } from '../../core/app-error.ts';
import { type Principal, principalId } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';
import { contentMatchesType, type FileStore } from '../../infra/files/file-store.ts';
import { assertCanView } from './access.ts';

type FileRecord = z.infer<typeof FileRecordSchema>;

export interface UploadLimits {
  maxBytes: number;
  allowedTypes: readonly string[];
}

/**
 * Files attached to conversations. Bytes go to the file store first; the row is written only when the upload
 * completed within the limits, so a rejected upload leaves nothing behind.
 */
export class FileService {
  constructor(
    private readonly db: Db,
    private readonly store: FileStore,
    private readonly limits: UploadLimits,
  ) {}

  async upload(principal: Principal, conversationId: string, file: { name: string; contentType: string; content: Readable }): Promise<FileRecord> {
    const conversation = assertCanView(principal, await this.db.selectFrom('conversations').selectAll().where('id', '=', conversationId).executeTakeFirst());
    if (conversation.state !== 'open') {
      file.content.resume();
      throw new AppError('CONVERSATION_CLOSED', 'The conversation is closed');
    }
    const contentType = file.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
    if (!this.limits.allowedTypes.includes(contentType)) {
      file.content.resume();
      throw new AppError('FILE_TYPE_NOT_ALLOWED', `Files of type ${contentType || 'unknown'} are not accepted`, { allowedTypes: this.limits.allowedTypes });
    }
    const id = randomUUID();
    const key = `${conversation.account_id}/${id}`;
    const written = await this.store.put(key, file.content, this.limits.maxBytes);
    if (!contentMatchesType(written.head, contentType)) {
      await this.store.remove(key);
      throw new AppError('FILE_TYPE_NOT_ALLOWED', `The file's content is not ${contentType}`);
    }
    const name = sanitiseName(file.name);
    const row = await this.db
      .insertInto('files')
      .values({
        id,
        account_id: conversation.account_id,
        conversation_id: conversation.id,
        uploader_id: principalId(principal),
        name,
        content_type: contentType,
        size: written.size,
        sha256: written.sha256,
        storage_key: key,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { id: row.id, conversationId: row.conversation_id, name: row.name, contentType: row.content_type, size: row.size, sha256: row.sha256, createdAt: row.created_at.toISOString() };
  }

  async open(principal: Principal, fileId: string): Promise<{ name: string; contentType: string; size: number; content: Readable }> {
    const file = await this.db.selectFrom('files').selectAll().where('id', '=', fileId).where('account_id', '=', principal.accountId).executeTakeFirst();
    if (!file) throw new AppError('NOT_FOUND', 'File not found');
    const conversation = await this.db.selectFrom('conversations').selectAll().where('id', '=', file.conversation_id).executeTakeFirst();
    try {
      assertCanView(principal, conversation);
    } catch {
      throw new AppError('NOT_FOUND', 'File not found');
    }
    return { name: file.name, contentType: file.content_type, size: file.size, content: this.store.open(file.storage_key) };
  }
}

function sanitiseName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? 'file';
  const clean = [...base]
    .filter((ch) => ch !== '"' && ch.charCodeAt(0) > 0x1f && ch.charCodeAt(0) !== 0x7f)
    .join('')
    .trim()
    .slice(0, 200);
  return clean || 'file';
}
