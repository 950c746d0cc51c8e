import type { Config } from './config/config.ts';
import type { Clock } from './core/clock.ts';
import { type EventBus, topics } from './infra/bus/event-bus.ts';
import type { Db } from './infra/db/database.ts';
import { createDiskFileStore } from './infra/files/file-store.ts';
import { AddressPolicy } from './infra/outbound/address-policy.ts';
import { OutboundHttp } from './infra/outbound/outbound-http.ts';
import { JobQueue } from './infra/jobs/index.ts';
import type { Logger } from './infra/telemetry/logger.ts';
import type { Metrics } from './infra/telemetry/metrics.ts';
import { AnalyticsService, AnalyticsSink } from './modules/analytics/index.ts';
import { AccountService, ApiKeyService, AuthService, BotIdentityService, ClientCredentialsService, TokenSigner, UserService } from './modules/accounts/index.ts';
import { BotDirectory, BotRuntime, BotService } from './modules/bots/index.ts';
import { SecretBox } from './infra/crypto/secret-box.ts';
import { CannedResponseService } from './modules/canned-responses/index.ts';
import { ChannelDelivery, ChannelService, MediaLinks } from './modules/channels/index.ts';
import { BrandTokenVerifier, ConsumerService } from './modules/consumers/index.ts';
import { ConversionService, CsatService, EngagementSettingsService } from './modules/engagement/index.ts';
import { RoutingService } from './modules/routing/index.ts';
import { MessageSearchService, SearchIndexUpkeep } from './modules/search/index.ts';
import { ConsumerDetailsService, ConversationService, FileService } from './modules/conversations/index.ts';
import { WebhookService } from './modules/webhooks/index.ts';

/** Every domain service, wired once. Transports receive this and nothing lower. */
export interface Services {
  accounts: AccountService;
  users: UserService;
  apiKeys: ApiKeyService;
  auth: AuthService;
  /** OAuth 2.0 client credentials over API keys (`POST /oauth/token`). */
  clientCredentials: ClientCredentialsService;
  consumers: ConsumerService;
  conversations: ConversationService;
  files: FileService;
  routing: RoutingService;
  /** Durable background jobs (outbound deliveries); modules register their job definitions on it. */
  jobs: JobQueue;
  cannedResponses: CannedResponseService;
  /** Outbound webhooks: subscriptions, the delivery log, and the sink that turns conversation events into deliveries. */
  webhooks: WebhookService;
  consumerDetails: ConsumerDetailsService;
  /** Bots: their configuration and figures. */
  bots: BotService;
  /** Bots at work in conversations: deliveries, flow turns, escalation and the reply deadlines the sweep enforces. */
  botRuntime: BotRuntime;
  /** Channels (SMS, Messenger, WhatsApp, connectors): configuration with sealed credentials. */
  channels: ChannelService;
  /** Messages in and out of channels: provider webhooks, outbound jobs, statuses, IVR deflection. */
  channelDelivery: ChannelDelivery;
  /** Signed links providers fetch files from. */
  mediaLinks: MediaLinks;
  /** CSAT survey and attribution settings of accounts. */
  engagementSettings: EngagementSettingsService;
  /** The post-conversation CSAT survey: a sink that asks it on close, answers from the widget and channels. */
  csat: CsatService;
  /** Conversions (purchases, goals) attributed to conversations. */
  conversions: ConversionService;
  /** Transcript search (full text over the account's messages). */
  search: MessageSearchService;
  /** Moves the search index's pending list into the index from a timer, so that no message commit pays for it. */
  searchIndexUpkeep: SearchIndexUpkeep;
  /** The HTTP client of every call to an address a tenant chose (webhooks, bots, channels); closed at shutdown. */
  outbound: OutboundHttp;
  /** The analytics record's reports and the hourly rollup (its sink is registered on the conversations). */
  analytics: AnalyticsService;
}

export async function createServices(deps: { db: Db; bus: EventBus; config: Config; clock: Clock; logger: Logger; metrics: Metrics; publicUrl?: () => string }): Promise<Services> {
  const { db, bus, config, clock, logger, metrics } = deps;
  const publicUrl = deps.publicUrl ?? (() => config.http.publicUrl ?? `http://${config.http.host}:${config.http.port}`);
  const signer = await TokenSigner.create(db, config.auth.jwtSecret, clock);
  const accounts = new AccountService(db);
  const users = new UserService(db);
  const apiKeys = new ApiKeyService(db, clock);
  const botIdentities = new BotIdentityService(db, clock);
  const auth = new AuthService(db, signer, apiKeys, config.auth, clock, logger.child({ module: 'auth' }), botIdentities);
  const clientCredentials = new ClientCredentialsService(apiKeys, signer, config.auth.accessTokenTtlSeconds);
  // Every call to an address a tenant chose (webhooks, bots, channel providers, a brand's JWKS) goes through this
  // client, which refuses the ones they may not reach (ADR 19).
  const outbound = new OutboundHttp(new AddressPolicy(config.outbound.allowedNetworks));
  const consumers = new ConsumerService(db, accounts, signer, new BrandTokenVerifier(clock, outbound.fetch), config.auth, clock);
  const conversations = new ConversationService(
    db,
    bus,
    clock,
    logger.child({ module: 'conversations' }),
    {
      onEventStored: (event) => metrics.eventsStored.inc({ type: event.type }),
      onDuplicateSend: () => metrics.duplicateSends.inc(),
      onSendBatch: ({ size, waitedMs, storedMs }) => {
        metrics.sendBatchMessages.observe(size);
        metrics.sendBatchWait.observe(waitedMs / 1000);
        metrics.sendBatchDuration.observe(storedMs / 1000);
      },
    },
    config.messaging,
  );
  const files = new FileService(db, createDiskFileStore(config.storage.filesDir), config.uploads);
  const routing = new RoutingService(
    db,
    conversations,
    bus,
    clock,
    logger.child({ module: 'routing' }),
    { heartbeatMs: config.realtime.heartbeatIntervalMs, nodeId: config.routing.nodeId },
    {
      onAssigned: (waitMs, kind) => metrics.routingAssignments.observe({ kind }, waitMs / 1000),
      onPass: (ms) => metrics.routingPassDuration.observe(ms / 1000),
    },
  );
  conversations.attachRouting(routing.port);
  const jobs = new JobQueue(
    db,
    clock,
    logger.child({ module: 'jobs' }),
    { nodeId: config.routing.nodeId },
    { onFinished: (queue, outcome, ms) => metrics.jobsFinished.observe({ queue, outcome }, ms / 1000) },
  );
  const cannedResponses = new CannedResponseService(db, clock);
  const consumerDetails = new ConsumerDetailsService(db);
  const box = await SecretBox.create(db, config.auth.credentialsKey);
  if (box.keySource === 'database') logger.warn('CREDENTIALS_KEY is not set: channel credentials and signing secrets are encrypted with a key kept in the database itself');
  const webhooks = new WebhookService(db, jobs, clock, logger.child({ module: 'webhooks' }), outbound.fetch, box, config.webhooks, {
    onAttempt: (outcome, ms) => metrics.webhookAttempts.observe({ outcome }, ms / 1000),
    onDisabled: (accountId, notice) => {
      metrics.webhookSubscriptionsDisabled.inc();
      bus.publish(topics.account(accountId), { kind: 'notice', accountId, notice }).catch((error: unknown) => logger.error({ err: error }, 'publishing a webhook notice failed'));
    },
  });
  await webhooks.sealStoredSecrets();
  conversations.addEventSink(webhooks.sink);
  conversations.addEventSink(new AnalyticsSink(clock));
  const analytics = new AnalyticsService(db, jobs, clock, logger.child({ module: 'analytics' }));
  jobs.register(analytics.rollUpJob);
  const botDirectory = new BotDirectory(clock, box);
  const bots = new BotService(db, botIdentities, routing, botDirectory, clock, logger.child({ module: 'bots' }), box);
  await bots.sealStoredSecrets();
  const botRuntime = new BotRuntime(db, botDirectory, conversations, routing, consumerDetails, jobs, clock, logger.child({ module: 'bots' }), outbound.fetch, {
    onEscalated: (reason) => metrics.botEscalations.inc({ reason }),
    onDelivery: (outcome, ms) => metrics.botDeliveries.observe({ outcome }, ms / 1000),
  });
  conversations.addEventSink(botRuntime);
  const channels = new ChannelService(db, box, clock, logger.child({ module: 'channels' }), publicUrl, outbound.fetch);
  const mediaLinks = new MediaLinks(box.derivedKey('media-links'), files, clock, publicUrl);
  const channelDelivery = new ChannelDelivery(db, channels, consumers, conversations, files, mediaLinks, jobs, clock, logger.child({ module: 'channels' }), config.channels, {
    onInbound: (kind, outcome) => metrics.channelInbound.inc({ kind, outcome }),
    onOutbound: (kind, outcome) => metrics.channelOutbound.inc({ kind, outcome }),
  });
  conversations.addEventSink(channelDelivery);
  const engagementSettings = new EngagementSettingsService(db, clock);
  const csat = new CsatService(db, conversations, jobs, clock);
  conversations.addEventSink(csat);
  channelDelivery.attachSurveyAnswers(csat);
  const conversions = new ConversionService(db, engagementSettings, clock);
  return {
    accounts,
    users,
    apiKeys,
    auth,
    clientCredentials,
    consumers,
    conversations,
    files,
    routing,
    jobs,
    cannedResponses,
    consumerDetails,
    webhooks,
    bots,
    botRuntime,
    channels,
    channelDelivery,
    mediaLinks,
    engagementSettings,
    csat,
    conversions,
    search: new MessageSearchService(db),
    searchIndexUpkeep: new SearchIndexUpkeep(db, metrics, logger.child({ module: 'search' })),
    analytics,
    outbound,
  };
}
