import type { Insertable, Selectable, Transaction } from 'kysely';
import type { Clock } from '../../core/clock.ts';
import { batchRows } from '../../infra/db/batch-rows.ts';
import { preparedStatement } from '../../infra/db/prepared.ts';
import type { Database } from '../../infra/db/schema.ts';
import type { ConversationActivity, ConversationEventSink } from '../conversations/index.ts';
import type { ConversationsTable } from '../conversations/tables.ts';
import type { AnalyticsEventsTable, AnalyticsFactType } from './tables.ts';

type Trx = Transaction<Database>;
type ConversationRow = Selectable<ConversationsTable>;
type Fact = Insertable<AnalyticsEventsTable>;

const FACT_ROWS = batchRows<Fact>('f', [
  ['account_id', 'uuid'],
  ['conversation_id', 'uuid'],
  ['type', 'text'],
  ['at', 'timestamptz'],
  ['skill_id', 'uuid'],
  ['agent_id', 'uuid'],
  ['is_bot', 'boolean'],
  ['channel', 'text'],
  ['device', 'text'],
  ['duration_ms', 'bigint'],
  ['value', 'numeric'],
  ['detail', 'text'],
]);

/**
 * The facts of a transaction in one INSERT: a fixed text with the rows as one array per column (infra/db/batch-rows.ts),
 * prepared once per connection (infra/db/prepared.ts), since it runs in every group commit, whose number of facts
 * varies. The facts as a batch of rows (`FACT_ROWS`; `detail` is JSON text already).
 */
const INSERT_FACTS = preparedStatement(
  'analytics.facts',
  `insert into analytics_events (account_id, conversation_id, type, at, skill_id, agent_id, is_bot, channel, device, duration_ms, value, detail)
  select account_id, conversation_id, type, at, skill_id, agent_id, is_bot, channel, device, duration_ms, value, detail::jsonb
  from ${FACT_ROWS.sql}`,
);

/**
 * Writes the analytics record. Every fact comes from an activity routing records in the transaction of the change
 * (started, queued, assigned, answered, transferred, escalated, closed), with the durations routing derives from the
 * row it already holds: one INSERT per activity (per transaction when a group commit stores several), no read.
 */
export class AnalyticsSink implements ConversationEventSink {
  constructor(private readonly clock: Clock) {}

  /** Stored events say nothing the activities do not: the record is written from the activities. */
  async eventsStored(): Promise<void> {}

  async activity(trx: Trx, conversation: ConversationRow, activity: ConversationActivity): Promise<void> {
    await this.activities(trx, [{ conversation, activity }]);
  }

  /** The activities of a transaction that stored several messages (a group commit): one INSERT for all their facts. */
  async activities(trx: Trx, items: ReadonlyArray<{ conversation: ConversationRow; activity: ConversationActivity }>): Promise<void> {
    const at = this.clock.now();
    const facts = items.flatMap(({ conversation, activity }) => factsOf(conversation, activity, at));
    if (facts.length === 0) return;
    await INSERT_FACTS.runLater(trx, FACT_ROWS.parameters(facts));
  }
}

export function factsOf(conversation: ConversationRow, activity: ConversationActivity, at: Date): Fact[] {
  // Each fact is a fresh literal with every column, its dimensions assigned over it: a spread followed by more
  // properties (`{ ...base, type }`) makes V8 keep such objects through the young generation's collections
  // (docs/performance.md, item 31).
  const fact = (type: AnalyticsFactType, dims: Partial<Fact> = {}): Fact =>
    Object.assign(
      {
        account_id: conversation.account_id,
        conversation_id: conversation.id,
        type,
        at,
        channel: conversation.channel,
        device: conversation.device,
        skill_id: null,
        agent_id: null,
        is_bot: false,
        duration_ms: null,
        value: null,
        detail: null,
      } satisfies Fact,
      dims,
    );
  switch (activity.type) {
    case 'opened':
      return [fact('started', { skill_id: activity.skillId })];
    case 'message': {
      const dims = { skill_id: activity.skillId, agent_id: activity.agentId };
      if (activity.role === 'consumer') {
        const facts: Fact[] = [fact('consumer_message', dims)];
        if (activity.queued) facts.push(fact('queued', dims));
        return facts;
      }
      const answer = { skill_id: activity.skillId, agent_id: activity.agentId, is_bot: activity.role === 'bot', duration_ms: activity.responseMs };
      const facts: Fact[] = [fact('agent_message', answer)];
      if (activity.firstResponse) facts.push(fact('first_response', answer));
      return facts;
    }
    case 'assigned':
      return [fact('assigned', { skill_id: activity.skillId, agent_id: activity.agentId, is_bot: activity.isBot, duration_ms: activity.waitMs })];
    case 'transferred':
      return [
        fact(activity.escalation ? 'escalated' : 'transferred', {
          skill_id: activity.fromSkillId ?? activity.toSkillId,
          agent_id: activity.fromAgentId,
          is_bot: activity.escalation !== null,
          duration_ms: activity.heldMs ?? null,
          detail: JSON.stringify({ reason: activity.escalation?.reason ?? null, toSkillId: activity.toSkillId, toAgentId: activity.toAgentId }),
        }),
      ];
    case 'released':
      return [fact('released', { skill_id: activity.skillId, agent_id: activity.agentId, duration_ms: activity.heldMs, detail: JSON.stringify({ reason: activity.reason }) })];
    case 'closed':
      return [fact('closed', { skill_id: activity.skillId, agent_id: activity.agentId, duration_ms: activity.handleMs, detail: JSON.stringify({ reason: activity.reason }) })];
    default:
      return [];
  }
}
