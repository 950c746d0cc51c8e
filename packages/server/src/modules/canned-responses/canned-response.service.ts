import type { z } from 'zod';
import type { CannedResponse, CreateCannedResponseRequestSchema, UpdateCannedResponseRequestSchema } from '@parley/protocol';
import type { Selectable } from 'kysely';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import { type Principal, requireUser } from '../../core/principal.ts';
import type { Db } from '../../infra/db/database.ts';
import { isUniqueViolation } from '../../infra/db/pg-errors.ts';
import type { CannedResponsesTable } from './tables.ts';

type Row = Selectable<CannedResponsesTable>;
type User = Extract<Principal, { kind: 'user' }>;

function toCannedResponse(row: Row): CannedResponse {
  return {
    id: row.id,
    scope: row.owner_id === null ? 'account' : 'personal',
    ownerId: row.owner_id,
    shortcut: row.shortcut,
    title: row.title,
    text: row.text,
    quickReplies: row.quick_replies,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function shortcutTaken(shortcut: string): AppError {
  return new AppError('CONFLICT', `The shortcut "/${shortcut}" is already used in this scope`, {
    issues: [{ path: 'shortcut', message: 'Already used', code: 'duplicate' }],
  });
}

/**
 * Canned responses of an account. Everyone reads the account-wide ones and their own personal ones; admins edit the
 * account-wide ones; each user edits only their own personal ones. Another user's personal response, like another
 * account's, is NOT_FOUND: its existence is not disclosed.
 */
export class CannedResponseService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async list(principal: Principal): Promise<CannedResponse[]> {
    const user = requireUser(principal);
    const rows = await this.db
      .selectFrom('canned_responses')
      .selectAll()
      .where('account_id', '=', user.accountId)
      .where((eb) => eb.or([eb('owner_id', 'is', null), eb('owner_id', '=', user.userId)]))
      .orderBy('shortcut')
      .orderBy('owner_id', 'desc')
      .execute();
    return rows.map(toCannedResponse);
  }

  async create(principal: Principal, input: z.infer<typeof CreateCannedResponseRequestSchema>): Promise<CannedResponse> {
    const user = requireUser(principal);
    if (input.scope === 'account' && user.role !== 'admin') throw new AppError('FORBIDDEN', 'Only admins create account-wide canned responses');
    try {
      const row = await this.db
        .insertInto('canned_responses')
        .values({
          account_id: user.accountId,
          owner_id: input.scope === 'account' ? null : user.userId,
          shortcut: input.shortcut,
          title: input.title,
          text: input.text,
          quick_replies: input.quickReplies ? JSON.stringify(input.quickReplies) : null,
          created_at: this.clock.now(),
          updated_at: this.clock.now(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toCannedResponse(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw shortcutTaken(input.shortcut);
      throw error;
    }
  }

  async update(principal: Principal, id: string, input: z.infer<typeof UpdateCannedResponseRequestSchema>): Promise<CannedResponse> {
    const user = requireUser(principal);
    await this.findEditable(user, id);
    const changes: Partial<{ shortcut: string; title: string; text: string; quick_replies: string | null; updated_at: Date }> = { updated_at: this.clock.now() };
    if (input.shortcut !== undefined) changes.shortcut = input.shortcut;
    if (input.title !== undefined) changes.title = input.title;
    if (input.text !== undefined) changes.text = input.text;
    if (input.quickReplies !== undefined) changes.quick_replies = input.quickReplies ? JSON.stringify(input.quickReplies) : null;
    try {
      const row = await this.db.updateTable('canned_responses').set(changes).where('account_id', '=', user.accountId).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
      return toCannedResponse(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw shortcutTaken(input.shortcut ?? '');
      throw error;
    }
  }

  async delete(principal: Principal, id: string): Promise<void> {
    const user = requireUser(principal);
    await this.findEditable(user, id);
    await this.db.deleteFrom('canned_responses').where('account_id', '=', user.accountId).where('id', '=', id).execute();
  }

  /** The response if the user may change it; NOT_FOUND when they may not even see it, FORBIDDEN when they only read it. */
  private async findEditable(user: User, id: string): Promise<Row> {
    const row = await this.db.selectFrom('canned_responses').selectAll().where('account_id', '=', user.accountId).where('id', '=', id).executeTakeFirst();
    if (!row || (row.owner_id !== null && row.owner_id !== user.userId)) throw new AppError('NOT_FOUND', 'Canned response not found');
    if (row.owner_id === null && user.role !== 'admin') throw new AppError('FORBIDDEN', 'Only admins change account-wide canned responses');
    return row;
  }
}
