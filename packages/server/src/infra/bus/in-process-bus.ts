import type { BusHandler, BusMessage, EventBus, Unsubscribe } from './event-bus.ts';

/**
 * The embedded-mode bus: synchronous fan-out inside one process. A throwing handler is isolated from the others and
 * from the publisher.
 */
export function createInProcessBus(onHandlerError: (error: unknown, topic: string) => void): EventBus {
  const handlers = new Map<string, Set<BusHandler>>();
  return {
    async publish(topic: string, message: BusMessage) {
      const set = handlers.get(topic);
      if (!set) return;
      for (const handler of [...set]) {
        try {
          handler(message);
        } catch (error) {
          onHandlerError(error, topic);
        }
      }
    },
    subscribe(topic: string, handler: BusHandler): Unsubscribe {
      let set = handlers.get(topic);
      if (!set) {
        set = new Set();
        handlers.set(topic, set);
      }
      set.add(handler);
      return () => {
        const current = handlers.get(topic);
        if (!current) return;
        current.delete(handler);
        if (current.size === 0) handlers.delete(topic);
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
