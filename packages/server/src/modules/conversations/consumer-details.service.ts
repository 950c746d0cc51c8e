import type { ConsumerDetails } from '@parley/protocol';
import { AppError } from '../../core/app-error.ts';
import { isSupervisor, type Principal, requireUser } from '../../core/principal.ts';
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
    if (!isSupervisor(user)) {
      const held = await this.db
        .selectFrom('conversations')
        .select('id')
        .where('account_id', '=', user.accountId)
        .where('consumer_id', '=', consumerId)
        .where('assigned_agent_id', '=', user.userId)
        .where('state', '=', 'open')
        .executeTakeFirst();
      if (!held) throw new AppError('NOT_FOUND', 'Consumer not found');
    }
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
      },
      conversations: rows.map((row) =>
        toSummary(
          row,
          participants.filter((p) => p.conversation_id === row.id),
        ),
      ),
    };
  }
}
