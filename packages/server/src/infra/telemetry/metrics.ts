import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds, fine where the send path lives (a few ms) and coarse beyond. */
const SEND_BATCH_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1];

/** Prometheus metrics of one server instance, served at /metrics. One registry per instance, so tests stay isolated. */
export function createMetrics() {
  const registry = new Registry();
  // Garbage collection pauses with buckets where a realtime server feels them (5–100 ms), not prom-client's 1 ms / 10 ms / 100 ms.
  collectDefaultMetrics({ register: registry, prefix: 'parley_', gcDurationBuckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1] });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'parley_http_request_duration_seconds',
      help: 'HTTP request duration by route and status code',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    eventsStored: new Counter({ name: 'parley_conversation_events_stored_total', help: 'Conversation events committed, by type', labelNames: ['type'] as const, registers: [registry] }),
    duplicateSends: new Counter({ name: 'parley_duplicate_sends_total', help: 'Sends answered from an earlier copy (same clientMessageId)', registers: [registry] }),
    wsConnections: new Gauge({ name: 'parley_ws_connections', help: 'Open WebSocket connections', labelNames: ['kind'] as const, registers: [registry] }),
    wsFramesIn: new Counter({ name: 'parley_ws_frames_in_total', help: 'WebSocket frames received, by type', labelNames: ['type'] as const, registers: [registry] }),
    wsFramesOut: new Counter({ name: 'parley_ws_frames_out_total', help: 'WebSocket frames sent, by type', labelNames: ['type'] as const, registers: [registry] }),
    wsRateLimited: new Counter({ name: 'parley_ws_rate_limited_total', help: 'Frames rejected by the per-connection rate limit', registers: [registry] }),
    wsSlowConsumerCloses: new Counter({ name: 'parley_ws_slow_consumer_closes_total', help: 'Connections closed because the client did not read fast enough', registers: [registry] }),
    routingAssignments: new Histogram({
      name: 'parley_routing_wait_seconds',
      help: 'Time from entering the queue to assignment (assign) or to the first ring (offer)',
      labelNames: ['kind'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600],
      registers: [registry],
    }),
    routingPassDuration: new Histogram({
      name: 'parley_routing_pass_duration_seconds',
      help: 'Duration of one routing pass over an account',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    rateLimitStoreErrors: new Counter({
      name: 'parley_rate_limit_store_errors_total',
      help: 'Requests let through unlimited because the shared rate-limit store (Redis) did not answer',
      registers: [registry],
    }),
    busPublishFailures: new Counter({
      name: 'parley_bus_publish_failures_total',
      help: 'Bus publishes that failed (the events are committed; subscribers catch up from the database)',
      registers: [registry],
    }),
    jobsFinished: new Histogram({
      name: 'parley_jobs_duration_seconds',
      help: 'Background job runs by queue and outcome (done, retry, failed)',
      labelNames: ['queue', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    webhookAttempts: new Histogram({
      name: 'parley_webhook_attempt_duration_seconds',
      help: 'Webhook delivery attempts by outcome (delivered, retry, failed), with the time the receiver took',
      labelNames: ['outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    webhookSubscriptionsDisabled: new Counter({
      name: 'parley_webhook_subscriptions_disabled_total',
      help: 'Webhook subscriptions Parley disabled because their endpoint kept failing',
      registers: [registry],
    }),
    channelInbound: new Counter({
      name: 'parley_channel_inbound_total',
      help: 'Provider webhooks by channel kind and outcome (stored, duplicate, rejected)',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
    channelOutbound: new Counter({
      name: 'parley_channel_outbound_total',
      help: 'Messages sent through channels by kind and outcome (sent, retry, failed)',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
    botEscalations: new Counter({
      name: 'parley_bot_escalations_total',
      help: 'Conversations bots handed to people, by reason (bot_requested, consumer_requested, bot_timeout, bot_error)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    botDeliveries: new Histogram({
      name: 'parley_bot_delivery_duration_seconds',
      help: 'Events POSTed to webhook bots by outcome (delivered, retry, failed), with the time the bot took',
      labelNames: ['outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    sendBatchMessages: new Histogram({
      name: 'parley_send_batch_messages',
      help: 'Sends stored together in one group commit',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    sendBatchWait: new Histogram({
      name: 'parley_send_batch_wait_seconds',
      help: "How long a group commit's oldest send waited for it to start (the batch before it, or the least interval)",
      buckets: SEND_BATCH_BUCKETS,
      registers: [registry],
    }),
    sendBatchDuration: new Histogram({
      name: 'parley_send_batch_seconds',
      help: 'How long a group commit took, from its start to every send of it settled (committed, or handed to the one-by-one path and stored)',
      buckets: SEND_BATCH_BUCKETS,
      registers: [registry],
    }),
    searchIndexUpkeep: new Histogram({
      name: 'parley_search_index_upkeep_seconds',
      help: "Time one move of the search index's pending list into the index took",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    embeddedVacuum: new Histogram({
      name: 'parley_db_embedded_upkeep_seconds',
      help: 'Time one vacuum or analyse of a table of the embedded database took (embedded mode has no autovacuum of its own)',
      labelNames: ['upkeep'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    searchIndexPendingPages: new Counter({
      name: 'parley_search_index_pending_pages_total',
      help: "Pages of the search index's pending list moved into the index by the upkeep",
      registers: [registry],
    }),
    wsGapRefills: new Counter({ name: 'parley_ws_gap_refills_total', help: 'Live deliveries that found a sequence gap and read it from the database', registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
