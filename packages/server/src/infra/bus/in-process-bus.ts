import type { BusHandler, BusMessage, EventBus, Unsubscribe } from './event-bus.ts';
import { TopicHandlers } from './topic-handlers.ts';

/**
 * The embedded-mode bus: synchronous fan-out inside one process. A throwing handler is isolated from the others and
 * from the publisher.
 */
export function createInProcessBus(onHandlerError: (error: unknown, topic: string) => void): EventBus {
  const handlers = new TopicHandlers(onHandlerError);
  return {
    async publish(topic: string, message: BusMessage) {
      handlers.deliver(topic, message);
    },
    subscribe(topic: string, handler: BusHandler): Unsubscribe {
      handlers.add(topic, handler);
      return () => {
        handlers.remove(topic, handler);
      };
    },
    async ready() {},
    onResync() {
      // In one process nothing is ever lost between publisher and subscriber.
      return () => {};
    },
    async close() {
      handlers.clear();
    },
  };
}
