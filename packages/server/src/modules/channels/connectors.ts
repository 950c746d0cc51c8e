import type { ChannelKind } from '@parley/protocol';
import type { ChannelConnector } from '../../connectors/channel-connector.ts';
import { messengerConnector } from '../../connectors/messenger/index.ts';
import { parleyConnector } from '../../connectors/parley/connector.ts';
import { twilioConnector } from '../../connectors/twilio/index.ts';
import { whatsappConnector } from '../../connectors/whatsapp/connector.ts';

/** The connector of each channel kind; settings and credentials are checked against the contract before use. */
// biome-ignore lint/suspicious/noExplicitAny: each connector is typed by its own kind's settings; the registry is keyed by kind
export type AnyConnector = ChannelConnector<any, any>;

export const CONNECTORS: Record<ChannelKind, AnyConnector> = {
  sms: twilioConnector,
  messenger: messengerConnector,
  whatsapp: whatsappConnector,
  connector: parleyConnector,
};

/** The conversation channel (`Channel` of the contract) a channel kind carries. */
export const CONVERSATION_CHANNEL = { sms: 'sms', messenger: 'messenger', whatsapp: 'whatsapp', connector: 'api' } as const satisfies Record<ChannelKind, string>;
