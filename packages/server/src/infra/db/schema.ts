import type { AccountsTables } from '../../modules/accounts/tables.ts';
import type { AnalyticsTables } from '../../modules/analytics/tables.ts';
import type { BotsTables } from '../../modules/bots/tables.ts';
import type { CannedResponsesTables } from '../../modules/canned-responses/tables.ts';
import type { ChannelsTables } from '../../modules/channels/tables.ts';
import type { ConsumersTables } from '../../modules/consumers/tables.ts';
import type { ConversationsTables } from '../../modules/conversations/tables.ts';
import type { EngagementTables } from '../../modules/engagement/tables.ts';
import type { RoutingTables } from '../../modules/routing/tables.ts';
import type { WebhooksTables } from '../../modules/webhooks/tables.ts';
import type { JobsTables } from '../jobs/tables.ts';

/** The whole schema, as the union of the tables each module owns. */
export interface Database
  extends AccountsTables,
    ConsumersTables,
    ConversationsTables,
    CannedResponsesTables,
    RoutingTables,
    BotsTables,
    JobsTables,
    WebhooksTables,
    ChannelsTables,
    EngagementTables,
    AnalyticsTables {}
