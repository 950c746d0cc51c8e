import type { BusHandler, BusMessage } from './event-bus.ts';

/**
 * A node's handlers per topic and the fan-out to them, shared by both buses (the in-process bus delivers every
 * message this way; the Redis bus delivers its own messages this way and those of other nodes on arrival). A throwing
 * handler is isolated from the others and from the publisher.
 */
export class TopicHandlers {
  private readonly byTopic = new Map<string, Set<BusHandler>>();

  constructor(private readonly onHandlerError: (error: unknown, topic: string) => void) {}

  /** Adds the handler; true when it is the topic's first (a networked bus subscribes then). */
  add(topic: string, handler: BusHandler): boolean {
    const set = this.byTopic.get(topic);
    if (set) {
      set.add(handler);
      return false;
    }
    this.byTopic.set(topic, new Set([handler]));
    return true;
  }

  /** Removes the handler; true when that left the topic without any (a networked bus unsubscribes then). */
  remove(topic: string, handler: BusHandler): boolean {
    const set = this.byTopic.get(topic);
    if (!set?.delete(handler) || set.size > 0) return false;
    this.byTopic.delete(topic);
    return true;
  }

  has(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  deliver(topic: string, message: BusMessage): void {
    const set = this.byTopic.get(topic);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(message);
      } catch (error) {
        this.onHandlerError(error, topic);
      }
    }
  }

  clear(): void {
    this.byTopic.clear();
  }
}
