import type { ConsumerDetails } from '@parley/protocol';
import { AppError } from '../../core/app-error.ts';
import { isSupervisor, type Principal, requireUser } from '../../core/principal.ts';
import { sql } from 'kysely';
import type { Db } from '../../infra/db/database.ts';
import { toSummary } from './event-mapping.ts';

const MAX_CONVERSATIONS = 50;

/**
 * What the workspace shows beside a conversation: who the consumer is and their other conversations. Managers and
 * admins may look up any consumer of their account; an agent only a consumer they hold an open conversation with.
 * Anyone else gets NOT_FOUND, so consumer ids cannot be probed.
 */
export class ConsumerDetailsService {
  constructor(private readonly db: Db) {}

  async get(principal: Principal, consumerId: string): Promise<ConsumerDetails> {
    const user = requireUser(principal);
    const consumer = await this.db.selectFrom('consumers').selectAll().where('account_id', '=', user.accountId).where('id', '=', consumerId).executeTakeFirst();
    if (!consumer) throw new AppError('NOT_FOUND', 'Consumer not found');
    await this.assertHolds(principal, consumerId);
    const rows = await this.db
      .selectFrom('conversations')
      .selectAll()
      .where('account_id', '=', user.accountId)
      .where('consumer_id', '=', consumerId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(MAX_CONVERSATIONS)
      .execute();
    const participants =
      rows.length === 0
        ? []
        : await this.db
            .selectFrom('conversation_participants')
            .selectAll()
            .where(
              'conversation_id',
              'in',
              rows.map((r) => r.id),
            )
            .where('left_at', 'is', null)
            .orderBy('joined_at')
            .execute();
    return {
      consumer: {
        id: consumer.id,
        authenticated: consumer.external_subject !== null,
        externalId: consumer.external_subject,
        createdAt: consumer.created_at.toISOString(),
        lastSeenAt: consumer.last_seen_at.toISOString(),
        profile: consumer.profile,
      },
      conversations: rows.map((row) =>
        toSummary(
          row,
          participants.filter((p) => p.conversation_id === row.id),
        ),
      ),
    };
  }

  /**
   * Sets (or, with null, removes) fields on the consumer's profile: a bot or agent holding an open conversation with
   * them, managers and admins, and API keys of the account.
   */
  async updateProfile(principal: Principal, consumerId: string, fields: Record<string, string | null>): Promise<{ consumerId: string; fields: Record<string, string> }> {
    if (principal.kind === 'consumer') throw new AppError('FORBIDDEN', 'Consumers do not edit their profile here');
    await this.assertHolds(principal, consumerId);
    const set = Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== null));
    const removed = Object.keys(fields).filter((key) => fields[key] === null);
    const row = await this.db
      .updateTable('consumers')
      .set({ profile: sql`(profile - ${sql.val(removed)}::text[]) || ${JSON.stringify(set)}::jsonb` })
      .where('account_id', '=', principal.accountId)
      .where('id', '=', consumerId)
      .returning('profile')
      .executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', 'Consumer not found');
    return { consumerId, fields: row.profile };
  }

  /** Agents and bots see a consumer only while they hold an open conversation with them; anyone else: NOT_FOUND. */
  private async assertHolds(principal: Principal, consumerId: string): Promise<void> {
    if (principal.kind === 'api_key' || isSupervisor(principal)) return;
    if (principal.kind !== 'user') throw new AppError('NOT_FOUND', 'Consumer not found');
    const held = await this.db
      .selectFrom('conversations')
      .select('id')
      .where('account_id', '=', principal.accountId)
      .where('consumer_id', '=', consumerId)
      .where('assigned_agent_id', '=', principal.userId)
      .where('state', '=', 'open')
      .executeTakeFirst();
    if (!held) throw new AppError('NOT_FOUND', 'Consumer not found');
  }
}
