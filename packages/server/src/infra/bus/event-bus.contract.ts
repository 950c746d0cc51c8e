import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { BusMessage, EventBus } from './event-bus.ts';

/** What every bus adapter must do: one suite, run by each adapter's test (in-process, Redis). */
export function describeEventBus(name: string, create: () => Promise<EventBus>): void {
  describe(`${name}: the event bus contract`, () => {
    const buses: EventBus[] = [];
    const bus = async () => {
      const b = await create();
      buses.push(b);
      return b;
    };
    afterEach(async () => {
      await Promise.all(buses.splice(0).map((b) => b.close()));
    });
    const updated = (n: number): BusMessage => ({ kind: 'routing_changed', accountId: `account-${n}` });
    const until = async (condition: () => boolean) => {
      for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
    };

    it('delivers a message to every subscriber of its topic, and to no other topic', async () => {
      const b = await bus();
      const topic = `t-${randomUUID()}`;
      const first: BusMessage[] = [];
      const second: BusMessage[] = [];
      const other: BusMessage[] = [];
      b.subscribe(topic, (m) => first.push(m));
      b.subscribe(topic, (m) => second.push(m));
      b.subscribe(`${topic}-other`, (m) => other.push(m));
      await b.ready();
      await b.publish(topic, updated(1));
      await until(() => first.length === 1 && second.length === 1);
      expect(first).toEqual([updated(1)]);
      expect(second).toEqual([updated(1)]);
      expect(other).toEqual([]);
    });

    it('keeps the order of one publisher’s messages on a topic', async () => {
      const b = await bus();
      const topic = `t-${randomUUID()}`;
      const got: BusMessage[] = [];
      b.subscribe(topic, (m) => got.push(m));
      await b.ready();
      await Promise.all(Array.from({ length: 50 }, (_, i) => b.publish(topic, updated(i))));
      await until(() => got.length === 50);
      expect(got).toEqual(Array.from({ length: 50 }, (_, i) => updated(i)));
    });

    it('stops delivering after unsubscribe', async () => {
      const b = await bus();
      const topic = `t-${randomUUID()}`;
      const got: BusMessage[] = [];
      const stop = b.subscribe(topic, (m) => got.push(m));
      const keep: BusMessage[] = [];
      b.subscribe(topic, (m) => keep.push(m));
      await b.ready();
      stop();
      await b.ready();
      await b.publish(topic, updated(1));
      await until(() => keep.length === 1);
      expect(got).toEqual([]);
    });

    it('isolates a failing handler from the others and from the publisher', async () => {
      const b = await bus();
      const topic = `t-${randomUUID()}`;
      const got: BusMessage[] = [];
      b.subscribe(topic, () => {
        throw new Error('handler bug');
      });
      b.subscribe(topic, (m) => got.push(m));
      await b.ready();
      await expect(b.publish(topic, updated(1))).resolves.toBeUndefined();
      await until(() => got.length === 1);
      expect(got).toHaveLength(1);
    });
  });
}
