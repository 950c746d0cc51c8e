import type { ChannelKind } from '@parley/protocol';
import type { OutboundFetch } from '../infra/outbound/outbound-http.ts';

/**
 * One provider behind one interface (Twilio SMS, Meta's Messenger and WhatsApp Cloud API, the Parley Connector
 * API). A connector knows the provider's formats and signatures and nothing of Parley's domain: the channels module
 * turns what it parses into consumers, conversations and receipts, and gives it Parley's messages to send.
 * Connectors import no framework: they get the request as plain data and call the provider with the
 * `fetch` they are given (`ConnectorChannel.fetch`).
 */
export interface ChannelConnector<Settings, Credentials> {
  readonly kind: ChannelKind;
  /**
   * Verifies a provider webhook (its signature, or the verification challenge) and parses it. Throws
   * `InboundRejected` for a bad or missing signature: nothing may be written then.
   */
  handleInbound(request: InboundRequest, channel: ConnectorChannel<Settings, Credentials>): InboundResult;
  /** Downloads a file a consumer sent (`InboundMedia.url`), with the channel's credentials where the provider needs them. */
  fetchMedia?(channel: ConnectorChannel<Settings, Credentials>, mediaUrl: string): Promise<{ body: Uint8Array; contentType: string }>;
  /** Sends one message to an address (a phone number, a page-scoped id, a WhatsApp id). Throws `ProviderError`. */
  send(channel: ConnectorChannel<Settings, Credentials>, to: string, message: OutboundMessage): Promise<SendResult>;
  /**
   * How long after the consumer's last message the provider lets the brand write freely (Messenger and WhatsApp: 24
   * hours); null: no window (SMS). Outside it, `send` is refused before calling the provider, unless the message is a
   * template (WhatsApp).
   */
  readonly replyWindowHours: number | null;
}

/** What a connector knows of a configured channel. */
export interface ConnectorChannel<Settings, Credentials> {
  id: string;
  settings: Settings;
  credentials: Credentials;
  /** The provider's API base URL (a simulator's in tests); the connector's default when null. */
  apiBaseUrl: string | null;
  /** The absolute URL Parley receives this channel's webhooks at (e.g. Twilio's `StatusCallback`). */
  webhookUrl?: string;
  /**
   * The HTTP client for every call of the connector (the provider's API, files): Parley's outbound client, which
   * refuses addresses a tenant may not reach (the API base URL is the tenant's to set: infra/outbound).
   */
  fetch: OutboundFetch;
}

/** A provider webhook request, as received. */
export interface InboundRequest {
  method: 'GET' | 'POST';
  /** The full URL the provider called (Twilio signs it): Parley's public URL + path + query. */
  url: string;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  query: Readonly<Record<string, string | undefined>>;
  /** The body exactly as received (signatures are over these bytes). */
  rawBody: string;
}

export type InboundResult =
  /** A verification handshake (Meta's `hub.challenge`): answer with this body, write nothing. */
  | { kind: 'challenge'; body: string }
  /** Messages and delivery statuses to apply, then the answer the provider expects (e.g. empty TwiML). */
  | { kind: 'items'; items: InboundItem[]; response: { status: number; contentType: string; body: string } };

export type InboundItem = InboundMessage | InboundStatus;

export interface InboundMessage {
  type: 'message';
  /** The provider's id of the message: redeliveries carry the same one. */
  providerMessageId: string;
  /** The consumer's address on this channel (E.164 phone number, page-scoped id, WhatsApp id). */
  from: string;
  /** The consumer's name, when the provider gives it (WhatsApp's profile name). */
  profileName?: string;
  text: string | null;
  media: InboundMedia[];
  /** The payload of a quick reply / button the consumer tapped, when the provider tells it apart from text. */
  quickReplyPayload?: string;
  receivedAt: Date;
}

export interface InboundMedia {
  /** Where the file can be fetched (with the channel's credentials for some providers). */
  url: string;
  contentType: string | null;
  caption?: string;
}

export interface InboundStatus {
  type: 'status';
  /** The id `send` returned. */
  providerMessageId: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  error?: { code: string; message: string };
  at: Date;
  /**
   * A watermark instead of one message (Messenger's read and delivery events): `providerMessageId` is `'*'`, and
   * every message sent to `from` up to `upTo` has the status.
   */
  from?: string;
  upTo?: Date;
}

/** A Parley message in the shape every connector translates to what its channel supports. */
export interface OutboundMessage {
  text: string;
  /** Quick replies; channels without them get a readable fallback (numbered options over SMS). */
  quickReplies: { title: string; payload: string }[];
  /** A file, at a URL the provider can fetch. */
  media: { url: string; contentType: string; fileName: string; caption?: string } | null;
  /** WhatsApp only: a pre-approved template, the only thing allowed outside the 24-hour window. */
  template?: { name: string; language: string; parameters: string[] };
}

export interface SendResult {
  providerMessageId: string;
}

/** A signature that does not verify, or a request that is not the provider's: refused with 401/403, nothing written. */
export class InboundRejected extends Error {
  constructor(
    message: string,
    readonly status: 401 | 403 | 400 = 403,
  ) {
    super(message);
  }
}

/** The provider refused or failed a send. `retryable`: worth trying again later (5xx, 429, network). */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}
