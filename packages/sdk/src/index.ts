/**
 * @parley/sdk: a typed Parley client for consumers and agents, in Node 20 and browsers.
 *
 * - `createRestClient`: every REST endpoint, typed from the protocol's catalogue.
 * - `RealtimeClient`: the WebSocket protocol with reconnect, resume from the last sequence, exactly-once ordered
 *   delivery and an outbox of unacknowledged sends.
 * - `createConsumer` / `createAgent`: sessions and token refresh wired up for both.
 *
 * Webhook receivers (Node only): `verifyWebhookSignature` is in `@parley/sdk/webhooks`, a subpath of its own so that
 * this entry, which the widget bundles for browsers, never pulls in `node:crypto`.
 */
export { ParleyApiError, ParleyConnectionError, type ParleyErrorInit } from './errors.ts';
export { type ExpiringToken, type TokenProvider, type TokenRequest, type TokenSource, type TokenSourceOptions, createTokenSource } from './token-source.ts';
export {
  type CallArgs,
  type CallInput,
  type RequestOptions,
  type RestClient,
  type RestClientOptions,
  type SendEventInput,
  type UploadData,
  type UploadOptions,
  createRestClient,
} from './http-client.ts';
export { type BackoffOptions, backoffDelay } from './backoff.ts';
export { type BaseUrl, type WebSocketConstructor, type WebSocketLike, realtimeUrl } from './websocket.ts';
export {
  type ChatState,
  type ChatStateNotice,
  type RealtimeEvents,
  type RealtimeOptions,
  type RealtimeState,
  type ReceiptInput,
  type SendInput,
  type SendRequest,
  type SubscribeOptions,
  type SubscribeResult,
  RealtimeClient,
} from './realtime.ts';
export { type Consumer, type ConsumerOptions, createConsumer } from './consumer.ts';
export { type Agent, type AgentOptions, createAgent } from './agent.ts';
