import type { Bot, BotMetricsQuerySchema, BotMetricsSchema, CreateBotRequestSchema, EscalationReason, UpdateBotRequestSchema } from '@parley/protocol';
import type { Selectable } from 'kysely';
import type { z } from 'zod';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { Principal } from '../../core/principal.ts';
import { SecretBox } from '../../infra/crypto/secret-box.ts';
import type { Db } from '../../infra/db/database.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import type { BotIdentityService } from '../accounts/index.ts';
import type { RoutingService } from '../routing/index.ts';
import { newWebhookSecret } from '../webhooks/index.ts';
import { type BotDirectory, botSigningSecretContext } from './bot-directory.ts';
import type { BotsTable } from './tables.ts';

/** How long deliveries are also signed with the previous signing secret after a rotation. */
export const SIGNING_SECRET_GRACE_MS = 24 * 3600_000;

type BotRow = Selectable<BotsTable> & { name: string; prefix: string };
type CreateBot = z.infer<typeof CreateBotRequestSchema>;
type UpdateBot = z.infer<typeof UpdateBotRequestSchema>;

/**
 * The account's bots: creating them (an identity with a secret, a configuration, and their place in routing),
 * changing, disabling, rotating their secrets, and their engagement figures.
 */
export class BotService {
  constructor(
    private readonly db: Db,
    private readonly identities: BotIdentityService,
    private readonly routing: RoutingService,
    private readonly directory: BotDirectory,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Seals the signing secrets at rest (opened by the directory). */
    private readonly box: SecretBox,
  ) {}

  async list(principal: Principal): Promise<{ items: Bot[] }> {
    const rows = await this.rows(principal.accountId);
    return { items: rows.map(toBot) };
  }

  async get(principal: Principal, botId: string): Promise<Bot> {
    return toBot(await this.row(principal.accountId, botId));
  }

  async create(principal: Principal, input: CreateBot): Promise<{ bot: Bot; secret: string; signingSecret: string }> {
    const accountId = principal.accountId;
    await this.assertSkills(accountId, [...input.skillIds, ...(input.escalationSkillId ? [input.escalationSkillId] : [])]);
    const signingSecret = newWebhookSecret();
    const { userId, secret } = await this.db.transaction().execute(async (trx) => {
      const identity = await this.identities.create(trx, accountId, input.name);
      await trx
        .insertInto('bots')
        .values({
          user_id: identity.userId,
          account_id: accountId,
          delivery: input.delivery,
          skill_ids: JSON.stringify([...new Set(input.skillIds)]),
          escalation_skill_id: input.escalationSkillId,
          response_timeout_seconds: input.responseTimeoutSeconds,
          max_conversations: input.maxConversations,
          escalation_phrases: JSON.stringify(input.escalationPhrases),
          webhook_url: input.delivery === 'webhook' ? input.webhookUrl : null,
          flow: input.delivery === 'flow' && input.flow ? JSON.stringify(input.flow) : null,
          signing_secret: this.box.seal(signingSecret, botSigningSecretContext(identity.userId)),
          enabled: input.enabled,
          updated_at: this.clock.now(),
        })
        .execute();
      return identity;
    });
    this.directory.invalidate(accountId);
    await this.applyRouting(await this.row(accountId, userId));
    this.logger.info({ accountId, botId: userId, delivery: input.delivery }, 'bot created');
    return { bot: toBot(await this.row(accountId, userId)), secret, signingSecret };
  }

  async update(principal: Principal, botId: string, change: UpdateBot): Promise<Bot> {
    const accountId = principal.accountId;
    const current = await this.row(accountId, botId);
    await this.assertSkills(accountId, [...(change.skillIds ?? []), ...(change.escalationSkillId ? [change.escalationSkillId] : [])]);
    if (current.delivery === 'webhook' && change.webhookUrl === null) throw validation('webhookUrl', 'A webhook bot needs a webhookUrl');
    if (current.delivery === 'flow' && change.flow === null) throw validation('flow', 'A flow bot needs a flow definition');
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('bots')
        .set({
          ...(change.skillIds !== undefined ? { skill_ids: JSON.stringify([...new Set(change.skillIds)]) } : {}),
          ...(change.escalationSkillId !== undefined ? { escalation_skill_id: change.escalationSkillId } : {}),
          ...(change.responseTimeoutSeconds !== undefined ? { response_timeout_seconds: change.responseTimeoutSeconds } : {}),
          ...(change.maxConversations !== undefined ? { max_conversations: change.maxConversations } : {}),
          ...(change.escalationPhrases !== undefined ? { escalation_phrases: JSON.stringify(change.escalationPhrases) } : {}),
          ...(change.webhookUrl !== undefined && current.delivery === 'webhook' ? { webhook_url: change.webhookUrl } : {}),
          ...(change.flow !== undefined && current.delivery === 'flow' ? { flow: JSON.stringify(change.flow) } : {}),
          ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
          updated_at: this.clock.now(),
        })
        .where('user_id', '=', botId)
        .where('account_id', '=', accountId)
        .execute();
      await this.identities.update(trx, accountId, botId, { ...(change.name !== undefined ? { name: change.name } : {}), ...(change.enabled !== undefined ? { disabled: !change.enabled } : {}) });
    });
    this.directory.invalidate(accountId);
    const updated = await this.row(accountId, botId);
    await this.applyRouting(updated);
    return toBot(updated);
  }

  async rotateSecrets(principal: Principal, botId: string): Promise<{ secret: string; signingSecret: string }> {
    const accountId = principal.accountId;
    await this.row(accountId, botId);
    const signingSecret = newWebhookSecret();
    const { secret } = await this.db.transaction().execute(async (trx) => {
      const now = this.clock.now();
      await trx
        .updateTable('bots')
        .set((eb) => ({
          // Sealed with the bot's id as associated data, so the sealed value moves from one column to the other as is.
          previous_signing_secret: eb.ref('signing_secret'),
          previous_signing_secret_until: new Date(now.getTime() + SIGNING_SECRET_GRACE_MS),
          signing_secret: this.box.seal(signingSecret, botSigningSecretContext(botId)),
          updated_at: now,
        }))
        .where('user_id', '=', botId)
        .where('account_id', '=', accountId)
        .execute();
      return this.identities.rotate(trx, accountId, botId);
    });
    this.logger.info({ accountId, botId }, 'bot secrets rotated');
    return { secret, signingSecret };
  }

  /**
   * Seals the signing secrets of bots stored before they were sealed (kept as they were, `whsec_…`). Run at start-up;
   * each row is changed only if it still holds what was read, so nodes starting together do it once.
   */
  async sealStoredSecrets(): Promise<number> {
    const rows = await this.db
      .selectFrom('bots')
      .select(['user_id', 'signing_secret', 'previous_signing_secret'])
      .where((eb) => eb.or([eb('signing_secret', 'not like', `${SecretBox.sealedPrefix}%`), eb('previous_signing_secret', 'not like', `${SecretBox.sealedPrefix}%`)]))
      .execute();
    let sealed = 0;
    for (const row of rows) {
      const seal = (stored: string) => (SecretBox.isSealed(stored) ? stored : this.box.seal(stored, botSigningSecretContext(row.user_id)));
      const changed = await this.db
        .updateTable('bots')
        .set({ signing_secret: seal(row.signing_secret), previous_signing_secret: row.previous_signing_secret === null ? null : seal(row.previous_signing_secret) })
        .where('user_id', '=', row.user_id)
        .where('signing_secret', '=', row.signing_secret)
        .executeTakeFirst();
      sealed += Number(changed.numUpdatedRows);
    }
    if (sealed > 0) this.logger.info({ bots: sealed }, 'sealed the signing secrets of bots stored before they were sealed');
    return sealed;
  }

  /**
   * Engagement over a period, from the conversations bots received in it: handled, escalated (by reason), contained
   * (closed without reaching a person) and still open with a bot.
   */
  async metrics(principal: Principal, query: z.infer<typeof BotMetricsQuerySchema>): Promise<z.infer<typeof BotMetricsSchema>> {
    const from = new Date(query.from);
    const to = new Date(query.to);
    if (!(from < to)) throw validation('to', '`to` must be after `from`');
    let q = this.db
      .selectFrom('bot_conversations')
      .select([
        'escalation_reason',
        (eb) => eb.fn.countAll<string>().as('n'),
        (eb) => eb.fn.countAll<string>().filterWhere('closed_at', 'is not', null).as('closed'),
        (eb) => eb.fn.countAll<string>().filterWhere('released_at', 'is not', null).as('released'),
      ])
      .where('account_id', '=', principal.accountId)
      .where('assigned_at', '>=', from)
      .where('assigned_at', '<', to)
      .groupBy('escalation_reason');
    if (query.botId) q = q.where('bot_id', '=', query.botId);
    const rows = await q.execute();
    const escalatedByReason: Partial<Record<EscalationReason, number>> = {};
    let handled = 0;
    let escalated = 0;
    let contained = 0;
    let open = 0;
    let reassigned = 0;
    for (const row of rows) {
      const n = Number(row.n);
      handled += n;
      if (row.escalation_reason) {
        escalated += n;
        escalatedByReason[row.escalation_reason] = n;
      } else {
        // Closed (by anyone) while the bot held it, or released to someone else: never both (a close is recorded only
        // while the bot holds the conversation).
        contained += Number(row.closed);
        reassigned += Number(row.released);
        open += n - Number(row.closed) - Number(row.released);
      }
    }
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      handled,
      escalated,
      escalatedByReason: { bot_requested: 0, consumer_requested: 0, bot_timeout: 0, bot_error: 0, ...escalatedByReason },
      contained,
      reassigned,
      open,
      containmentRate: contained + escalated > 0 ? contained / (contained + escalated) : null,
    };
  }

  private async applyRouting(bot: BotRow): Promise<void> {
    await this.routing.configureBot(bot.account_id, bot.user_id, {
      skillIds: bot.skill_ids,
      maxConversations: bot.max_conversations,
      // A websocket bot is present while connected, like an agent; Parley reaches the others itself.
      alwaysAvailable: bot.delivery !== 'websocket',
      enabled: bot.enabled,
    });
  }

  private async assertSkills(accountId: string, skillIds: readonly string[]): Promise<void> {
    const ids = [...new Set(skillIds)];
    if (ids.length === 0) return;
    const found = await this.db.selectFrom('skills').select('id').where('account_id', '=', accountId).where('id', 'in', ids).execute();
    if (found.length !== ids.length) throw validation('skillIds', 'Unknown skill');
  }

  private rows(accountId: string) {
    return this.db
      .selectFrom('bots')
      .innerJoin('users', 'users.id', 'bots.user_id')
      .innerJoin('bot_credentials', 'bot_credentials.user_id', 'bots.user_id')
      .selectAll('bots')
      .select(['users.name', 'bot_credentials.prefix'])
      .where('bots.account_id', '=', accountId)
      .orderBy('users.name')
      .execute();
  }

  private async row(accountId: string, botId: string): Promise<BotRow> {
    const row = await this.db
      .selectFrom('bots')
      .innerJoin('users', 'users.id', 'bots.user_id')
      .innerJoin('bot_credentials', 'bot_credentials.user_id', 'bots.user_id')
      .selectAll('bots')
      .select(['users.name', 'bot_credentials.prefix'])
      .where('bots.account_id', '=', accountId)
      .where('bots.user_id', '=', botId)
      .executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', 'Bot not found');
    return row;
  }
}

function toBot(row: BotRow): Bot {
  return {
    id: row.user_id,
    delivery: row.delivery,
    name: row.name,
    skillIds: row.skill_ids,
    escalationSkillId: row.escalation_skill_id,
    responseTimeoutSeconds: row.response_timeout_seconds,
    maxConversations: row.max_conversations,
    escalationPhrases: row.escalation_phrases,
    webhookUrl: row.webhook_url,
    flow: row.flow,
    enabled: row.enabled,
    secretPrefix: row.prefix,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function validation(path: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', message, { issues: [{ path, message, code: 'invalid' }] });
}
