import type { BotDelivery, FlowBotDefinition } from '@parley/protocol';
import type { Transaction } from 'kysely';
import type { Clock } from '../../core/clock.ts';
import type { SecretBox } from '../../infra/crypto/secret-box.ts';
import type { Db } from '../../infra/db/database.ts';
import type { Database } from '../../infra/db/schema.ts';

type Trx = Transaction<Database>;

export interface BotProfile {
  id: string;
  accountId: string;
  name: string;
  delivery: BotDelivery;
  enabled: boolean;
  escalationSkillId: string | null;
  responseTimeoutSeconds: number;
  escalationPhrases: readonly string[];
  webhookUrl: string | null;
  flow: FlowBotDefinition | null;
  /** The secrets deliveries are signed with: the current one, and the previous one during a rotation's grace period. */
  signingSecrets: string[];
}

/** How long another node's change to an account's bots may go unnoticed here (this node's own changes apply at once). */
export const BOT_DIRECTORY_TTL_MS = 5_000;

/**
 * The bots of each account, kept in memory: every stored conversation event asks whether a bot is involved, and an
 * account without bots must not pay a query for it. Loaded inside the caller's transaction (PGlite has one
 * connection: a query beside an open transaction would wait for it).
 */
export class BotDirectory {
  private readonly cache = new Map<string, { loadedAt: number; bots: Map<string, BotProfile> }>();

  constructor(
    private readonly clock: Clock,
    /** Opens the signing secrets, sealed at rest (`botSigningSecretContext`). */
    private readonly box: SecretBox,
  ) {}

  async botsOf(db: Db | Trx, accountId: string): Promise<ReadonlyMap<string, BotProfile>> {
    const cached = this.cache.get(accountId);
    const now = this.clock.now().getTime();
    if (cached && now - cached.loadedAt < BOT_DIRECTORY_TTL_MS) return cached.bots;
    const bots = new Map((await loadBots(db, this.box, accountId, this.clock.now())).map((b) => [b.id, b]));
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(accountId, { loadedAt: now, bots });
    return bots;
  }

  /** One bot as stored now (job handlers act on the current configuration, not the cached one). */
  async current(db: Db | Trx, accountId: string, botId: string): Promise<BotProfile | undefined> {
    return (await loadBots(db, this.box, accountId, this.clock.now(), botId))[0];
  }

  invalidate(accountId: string): void {
    this.cache.delete(accountId);
  }
}

/** The associated data of a bot's sealed signing secrets (both columns: a rotation copies one into the other). */
export const botSigningSecretContext = (botId: string) => `bot-signing-secret:${botId}`;

async function loadBots(db: Db | Trx, box: SecretBox, accountId: string, now: Date, botId?: string): Promise<BotProfile[]> {
  let q = db
    .selectFrom('bots')
    .innerJoin('users', 'users.id', 'bots.user_id')
    .select([
      'bots.user_id',
      'bots.account_id',
      'users.name',
      'bots.delivery',
      'bots.enabled',
      'bots.escalation_skill_id',
      'bots.response_timeout_seconds',
      'bots.escalation_phrases',
      'bots.webhook_url',
      'bots.flow',
      'bots.signing_secret',
      'bots.previous_signing_secret',
      'bots.previous_signing_secret_until',
    ])
    .where('bots.account_id', '=', accountId);
  if (botId) q = q.where('bots.user_id', '=', botId);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.user_id,
    accountId: r.account_id,
    name: r.name,
    delivery: r.delivery,
    enabled: r.enabled,
    escalationSkillId: r.escalation_skill_id,
    responseTimeoutSeconds: r.response_timeout_seconds,
    escalationPhrases: r.escalation_phrases,
    webhookUrl: r.webhook_url,
    flow: r.flow,
    signingSecrets: [r.signing_secret, ...(r.previous_signing_secret && r.previous_signing_secret_until && r.previous_signing_secret_until > now ? [r.previous_signing_secret] : [])].map((stored) =>
      box.openStored(stored, botSigningSecretContext(r.user_id)),
    ),
  }));
}
