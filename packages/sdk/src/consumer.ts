import type { ConversationSummary, EndpointBody } from '@parley/protocol';
import { type RestClient, createRestClient } from './http-client.ts';
import { RealtimeClient, type RealtimeOptions } from './realtime.ts';
import { type ExpiringToken, createTokenSource } from './token-source.ts';
import type { BaseUrl, WebSocketConstructor } from './websocket.ts';

/** Options of {@link createConsumer}. */
export interface ConsumerOptions {
  /** Where the server is; a function is called per request and per connection attempt (to fail over between nodes). */
  baseUrl: BaseUrl;
  /** The account's public widget key. */
  widgetKey: string;
  /** The device token stored from an earlier session: keeps the same (unauthenticated) consumer. */
  deviceToken?: string;
  /** A brand-signed JWT for an authenticated consumer; a function is called for every new session (it may expire). */
  brandToken?: string | (() => string | Promise<string>);
  /** Which conversation to continue or start (channel, line of business). */
  conversation?: EndpointBody<'startConversation'>;
  /** Called when the server hands out a device token different from the one given: store it on the device. */
  onDeviceToken?: (deviceToken: string) => void;
  /** WebSocket constructor (Node 20: `WebSocket` from `ws`). */
  WebSocket?: WebSocketConstructor;
  /** fetch implementation. */
  fetch?: typeof fetch;
  /** Further realtime options (back-off, ping, timeouts). */
  realtime?: Omit<RealtimeOptions, 'baseUrl' | 'getAccessToken' | 'WebSocket'>;
}

/** A connected consumer. Add listeners, then `realtime.subscribe(conversation.id)`. */
export interface Consumer {
  /** REST client authenticated as the consumer (sessions renewed by themselves). */
  readonly rest: RestClient;
  /** Realtime client, connecting; not subscribed yet, so no event is missed before listeners are added. */
  readonly realtime: RealtimeClient;
  /** The conversation continued or started. */
  readonly conversation: ConversationSummary;
  /** Whether `conversation` was started just now. */
  readonly created: boolean;
  /** The consumer's id. */
  readonly consumerId: string;
  /** The device token to store on the device (undefined when the server gave none, e.g. authenticated consumers). */
  readonly deviceToken: string | undefined;
  /** Closes the realtime connection. */
  close(): void;
}

/**
 * Starts a consumer: gets a session with the widget key (and stored device token or brand JWT), continues the open
 * conversation or starts one, and opens the realtime connection. When the session expires a new one is created with
 * the stored device token (or a fresh brand token), for REST and for the socket alike.
 */
export async function createConsumer(options: ConsumerOptions): Promise<Consumer> {
  const publicRest = createRestClient({ baseUrl: options.baseUrl, fetch: options.fetch });
  let deviceToken = options.deviceToken;
  let consumerId = '';

  const newSession = async (): Promise<ExpiringToken> => {
    const brandToken = typeof options.brandToken === 'function' ? await options.brandToken() : options.brandToken;
    const session = await publicRest.consumerSession({
      widgetKey: options.widgetKey,
      ...(deviceToken ? { deviceToken } : {}),
      ...(brandToken ? { brandToken } : {}),
    });
    consumerId = session.consumerId;
    if (session.deviceToken && session.deviceToken !== deviceToken) {
      deviceToken = session.deviceToken;
      options.onDeviceToken?.(session.deviceToken);
    }
    return { token: session.accessToken, expiresAt: Date.parse(session.accessTokenExpiresAt) };
  };

  const tokens = createTokenSource({ initial: await newSession(), renew: newSession });
  const rest = createRestClient({ baseUrl: options.baseUrl, fetch: options.fetch, getAccessToken: tokens.getAccessToken });
  const started = await rest.startConversation(options.conversation);
  const realtime = new RealtimeClient({
    ...options.realtime,
    baseUrl: options.baseUrl,
    getAccessToken: tokens.getAccessToken,
    WebSocket: options.WebSocket,
  });
  return {
    rest,
    realtime,
    conversation: started.conversation,
    created: started.created,
    get consumerId() {
      return consumerId;
    },
    get deviceToken() {
      return deviceToken;
    },
    close: () => realtime.close(),
  };
}
