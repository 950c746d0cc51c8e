import { randomBytes } from 'node:crypto';
import type { ChannelConfig, ChannelCredentials, ChannelKind, ChannelSettings, CreateChannelRequestSchema, UpdateChannelRequestSchema } from '@parley/protocol';
import type { Selectable } from 'kysely';
import type { z } from 'zod';
import type { ConnectorChannel, SendResult } from '../../connectors/channel-connector.ts';
import { ProviderError } from '../../connectors/channel-connector.ts';
import { AppError } from '../../core/app-error.ts';
import type { Clock } from '../../core/clock.ts';
import type { Principal } from '../../core/principal.ts';
import type { SecretBox } from '../../infra/crypto/secret-box.ts';
import type { Db } from '../../infra/db/database.ts';
import type { Logger } from '../../infra/telemetry/logger.ts';
import type { OutboundFetch } from '../../infra/outbound/outbound-http.ts';
import { CONNECTORS } from './connectors.ts';
import type { ChannelsTable } from './tables.ts';

export type ChannelRow = Selectable<ChannelsTable>;

/** Where providers send a channel's webhooks, below Parley's public URL. */
export function inboundWebhookPath(channelId: string): string {
  return `/webhooks/channels/${channelId}`;
}

/**
 * Channels of an account: their settings, their credentials (sealed at rest, never returned), and the connector
 * view of a channel that inbound and outbound delivery use.
 */
export class ChannelService {
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Parley's public base URL, for the webhook URLs providers call back (status callbacks). */
    private readonly publicUrl: () => string,
    /** Parley's outbound HTTP client (infra/outbound), for the connectors: refuses addresses a tenant may not reach. */
    private readonly fetch: OutboundFetch,
  ) {}

  async list(principal: Principal): Promise<{ items: ChannelConfig[] }> {
    const rows = await this.db.selectFrom('channels').selectAll().where('account_id', '=', principal.accountId).where('deleted_at', 'is', null).orderBy('created_at').execute();
    return { items: rows.map(toChannel) };
  }

  async get(principal: Principal, channelId: string): Promise<ChannelConfig> {
    return toChannel(await this.row(principal.accountId, channelId));
  }

  async create(principal: Principal, input: z.infer<typeof CreateChannelRequestSchema>): Promise<{ channel: ChannelConfig; connectorSecret: string | null }> {
    await this.assertSkill(principal.accountId, input.defaultSkillId);
    const id = crypto.randomUUID();
    const connectorSecret = input.settings.kind === 'connector' ? `pcs_${randomBytes(32).toString('base64url')}` : null;
    const row = await this.db
      .insertInto('channels')
      .values({
        id,
        account_id: principal.accountId,
        kind: input.settings.kind,
        name: input.name,
        enabled: input.enabled,
        default_skill_id: input.defaultSkillId,
        settings: JSON.stringify(input.settings),
        credentials_sealed: this.box.seal(JSON.stringify(input.credentials), id),
        api_base_url: input.apiBaseUrl,
        greeting: input.greeting,
        connector_secret_sealed: connectorSecret ? this.box.seal(connectorSecret, `${id}:connector`) : null,
        updated_at: this.clock.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    this.logger.info({ accountId: principal.accountId, channelId: id, kind: row.kind }, 'channel created');
    return { channel: toChannel(row), connectorSecret };
  }

  async update(principal: Principal, channelId: string, change: z.infer<typeof UpdateChannelRequestSchema>): Promise<ChannelConfig> {
    const current = await this.row(principal.accountId, channelId);
    if (change.settings && change.settings.kind !== current.kind) throw validation('settings.kind', `This channel is a ${current.kind} channel`);
    if (change.credentials && change.credentials.kind !== current.kind) throw validation('credentials.kind', `This channel is a ${current.kind} channel`);
    if (change.defaultSkillId) await this.assertSkill(principal.accountId, change.defaultSkillId);
    const row = await this.db
      .updateTable('channels')
      .set({
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
        ...(change.defaultSkillId !== undefined ? { default_skill_id: change.defaultSkillId } : {}),
        ...(change.apiBaseUrl !== undefined ? { api_base_url: change.apiBaseUrl } : {}),
        ...(change.greeting !== undefined ? { greeting: change.greeting } : {}),
        ...(change.settings ? { settings: JSON.stringify(change.settings) } : {}),
        ...(change.credentials ? { credentials_sealed: this.box.seal(JSON.stringify(change.credentials), current.id) } : {}),
        updated_at: this.clock.now(),
      })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toChannel(row);
  }

  async delete(principal: Principal, channelId: string): Promise<void> {
    const current = await this.row(principal.accountId, channelId);
    await this.db.updateTable('channels').set({ deleted_at: this.clock.now(), enabled: false, updated_at: this.clock.now() }).where('id', '=', current.id).execute();
  }

  /** Sends a test message through the channel (settings and credentials checked by the provider itself). */
  async sendTest(principal: Principal, channelId: string, input: { to: string; text: string }): Promise<SendResult> {
    const row = await this.row(principal.accountId, channelId);
    if (!row.enabled) throw new AppError('VALIDATION_FAILED', 'The channel is disabled: enable it first', { issues: [{ path: 'channelId', message: 'Disabled', code: 'invalid' }] });
    try {
      return await CONNECTORS[row.kind].send(this.connectorChannel(row), input.to, { text: input.text, quickReplies: [], media: null });
    } catch (error) {
      if (error instanceof ProviderError)
        throw new AppError('CHANNEL_DELIVERY_FAILED', `The provider refused the test message: ${error.message}`, { providerCode: error.code, retryable: error.retryable });
      throw error;
    }
  }

  // ---------- for inbound and outbound delivery ----------

  /** A channel that may receive webhooks (not deleted); NOT_FOUND otherwise. */
  async forWebhook(channelId: string): Promise<ChannelRow> {
    const row = await this.db.selectFrom('channels').selectAll().where('id', '=', channelId).where('deleted_at', 'is', null).executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', 'No such channel');
    return row;
  }

  async byId(channelId: string): Promise<ChannelRow | undefined> {
    return this.db.selectFrom('channels').selectAll().where('id', '=', channelId).executeTakeFirst();
  }

  /** What the connector needs: settings, the opened credentials, the provider URL, the channel's webhook URL, fetch. */
  connectorChannel(row: ChannelRow): ConnectorChannel<ChannelSettings, unknown> {
    const credentials = JSON.parse(this.box.open(row.credentials_sealed, row.id)) as ChannelCredentials;
    const opened = row.kind === 'connector' && row.connector_secret_sealed ? { kind: 'connector', secret: this.box.open(row.connector_secret_sealed, `${row.id}:connector`) } : credentials;
    return { id: row.id, settings: row.settings, credentials: opened, apiBaseUrl: row.api_base_url, webhookUrl: `${this.publicUrl()}${inboundWebhookPath(row.id)}`, fetch: this.fetch };
  }

  async row(accountId: string, channelId: string): Promise<ChannelRow> {
    const row = await this.db.selectFrom('channels').selectAll().where('account_id', '=', accountId).where('id', '=', channelId).where('deleted_at', 'is', null).executeTakeFirst();
    if (!row) throw new AppError('NOT_FOUND', 'Channel not found');
    return row;
  }

  private async assertSkill(accountId: string, skillId: string | null): Promise<void> {
    if (!skillId) return;
    const skill = await this.db.selectFrom('skills').select('id').where('account_id', '=', accountId).where('id', '=', skillId).executeTakeFirst();
    if (!skill) throw validation('defaultSkillId', 'Unknown skill');
  }
}

export function channelLabel(kind: ChannelKind): string {
  return { sms: 'SMS', messenger: 'Messenger', whatsapp: 'WhatsApp', connector: 'the connector' }[kind];
}

function toChannel(row: ChannelRow): ChannelConfig {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    enabled: row.enabled,
    defaultSkillId: row.default_skill_id,
    settings: row.settings,
    apiBaseUrl: row.api_base_url,
    inboundWebhookPath: inboundWebhookPath(row.id),
    greeting: row.greeting,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function validation(path: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', message, { issues: [{ path, message, code: 'invalid' }] });
}
