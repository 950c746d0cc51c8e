import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../telemetry/logger.ts';
import type { BusHandler, BusMessage, EventBus, Unsubscribe } from './event-bus.ts';
import { TopicHandlers } from './topic-handlers.ts';

export interface RedisBusOptions {
  url: string;
  /** Channel prefix, so several Parley installations can share one Redis. */
  prefix?: string;
  logger: Logger;
  onHandlerError(error: unknown, topic: string): void;
  onPublishError?(error: unknown, topic: string): void;
}

/**
 * The cluster-mode bus: Redis pub/sub between nodes. Redis keeps no message for a subscriber that is away, so the bus
 * is only the fast path: a publish that fails is logged (the event is committed and subscribers read it from the
 * database), and after a reconnect every resync listener is called so feeds re-read from their last sequence.
 *
 * A node's own subscribers get its messages at once, in the publishing turn, as on the in-process bus: not a round
 * trip through Redis later. Each message goes out with the publishing bus's `origin` as its first field, and a node
 * drops what comes back with its own origin before parsing it (a node that does not know the field just ignores it).
 */
export async function createRedisBus(options: RedisBusOptions): Promise<EventBus> {
  const prefix = options.prefix ?? 'parley:';
  const log = options.logger;
  const common = { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2_000) };
  const publisher = new Redis(options.url, { ...common, connectionName: 'parley-pub' });
  const subscriber = new Redis(options.url, { ...common, connectionName: 'parley-sub' });
  const handlers = new TopicHandlers(options.onHandlerError);
  const origin = randomUUID();
  const ownMessage = `{"origin":"${origin}",`;
  const resyncListeners = new Set<() => void>();
  let pending: Promise<unknown>[] = [];
  let connectedOnce = false;
  let failingSince: number | undefined;
  let failedPublishes = 0;
  let lostConnection = false;

  for (const [name, client] of [
    ['publisher', publisher],
    ['subscriber', subscriber],
  ] as const) {
    client.on('error', (error) => log.warn({ err: error, connection: name }, 'redis connection error'));
    client.on('close', () => {
      if (connectedOnce) lostConnection = true;
    });
  }
  // ioredis re-subscribes by itself after a reconnect, right after emitting 'ready'; messages published meanwhile are
  // gone, so ask for a resync, but only once the subscriptions are back (a PING queued behind the SUBSCRIBEs answers
  // when they are done): a resync before that could re-read the database, then miss a message published before the
  // subscription returned. `ready()` waits for it too.
  subscriber.on('ready', () => {
    if (connectedOnce && lostConnection) {
      lostConnection = false;
      const resubscribed = new Promise<void>((resolve) => setImmediate(resolve)).then(() => subscriber.ping());
      track(resubscribed);
      void resubscribed
        .catch(() => undefined)
        .then(() => {
          log.warn('redis bus reconnected: asking subscribers to re-read from the database');
          for (const listener of [...resyncListeners]) {
            try {
              listener();
            } catch (error) {
              log.error({ err: error }, 'bus resync listener failed');
            }
          }
        });
    }
  });
  subscriber.on('message', (channel: string, text: string) => {
    if (text.startsWith(ownMessage)) return; // delivered here when it was published
    const topic = channel.slice(prefix.length);
    if (!handlers.has(topic)) return;
    let message: BusMessage;
    try {
      const { origin: _origin, ...rest } = JSON.parse(text) as BusMessage & { origin?: string };
      message = rest as BusMessage;
    } catch (error) {
      log.error({ err: error, topic }, 'unreadable bus message');
      return;
    }
    handlers.deliver(topic, message);
  });

  await Promise.all([publisher.connect(), subscriber.connect()]);
  connectedOnce = true;

  const track = (operation: Promise<unknown>) => {
    const tracked = operation.catch((error: unknown) => log.warn({ err: error }, 'redis subscription change failed; it is retried on reconnect'));
    pending.push(tracked);
    void tracked.finally(() => {
      pending = pending.filter((p) => p !== tracked);
    });
  };

  const published = () => {
    if (failingSince === undefined) return;
    log.warn({ failed: failedPublishes, sinceMs: Date.now() - failingSince }, 'redis bus publishing again');
    failingSince = undefined;
    failedPublishes = 0;
  };
  const publishFailed = (error: unknown, topic: string) => {
    options.onPublishError?.(error, topic);
    failedPublishes += 1;
    if (failingSince !== undefined) return;
    failingSince = Date.now();
    log.error({ err: error, topic }, 'redis bus publish failed: other nodes get these messages late (from the database, by sequence)');
  };
  // A turn's publishes (a group commit's events, say: up to 256) go to Redis in one socket write: the publisher's
  // socket is corked at the first of them and uncorked after the turn's I/O (`setImmediate`, as the gateway corks its
  // sockets), in the order they were published. Each was a write of its own, and with two nodes those writes were a
  // fifth of a node's busy time. Not ioredis's pipelines: they join a batch's commands into one string, which at
  // 256 events is a large object for V8 (over 128 kB), straight into the old generation: full collections doubled.
  let corked: Redis['stream'] | undefined;
  const cork = () => {
    if (corked || publisher.status !== 'ready') return;
    corked = publisher.stream;
    corked.cork();
    setImmediate(() => {
      const stream = corked;
      corked = undefined;
      stream?.uncork();
    });
  };

  return {
    async publish(topic: string, message: BusMessage) {
      handlers.deliver(topic, message);
      // Not awaited: what the caller waits for (an acknowledgement to send, say) needs the message stored, which it
      // is, and delivered here, which it is; waiting for Redis's answer held every acknowledgement of a batch back a
      // round trip and split it from the sender's own event into another socket write. A failure is counted and
      // logged here, once an outage; the other nodes' feeds read what they missed from the database at their next
      // event of the conversation (a gap) or when their own Redis connection comes back (a resync).
      cork();
      publisher.publish(prefix + topic, `${ownMessage}${JSON.stringify(message).slice(1)}`).then(published, (error: unknown) => publishFailed(error, topic));
    },
    subscribe(topic: string, handler: BusHandler): Unsubscribe {
      if (handlers.add(topic, handler)) track(subscriber.subscribe(prefix + topic));
      return () => {
        if (handlers.remove(topic, handler)) track(subscriber.unsubscribe(prefix + topic));
      };
    },
    async ready() {
      await Promise.all(pending);
    },
    onResync(listener: () => void): Unsubscribe {
      resyncListeners.add(listener);
      return () => resyncListeners.delete(listener);
    },
    connected() {
      return publisher.status === 'ready' && subscriber.status === 'ready';
    },
    async close() {
      handlers.clear();
      resyncListeners.clear();
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
