import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startLocalRedis } from '../../../../../scripts/cluster/local-services.ts';
import { createLogger } from '../telemetry/logger.ts';
import { describeEventBus } from './event-bus.contract.ts';
import type { BusMessage, EventBus } from './event-bus.ts';
import { createRedisBus } from './redis-bus.ts';

/** The machine's Redis (CI runs one), unless PARLEY_TEST_REDIS_URL names another. */
const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = createLogger({ level: 'silent' });
const redisBus = (url = REDIS_URL) => createRedisBus({ url, prefix: `parley-test-${randomUUID().slice(0, 8)}:`, logger, onHandlerError: () => {} });

describeEventBus('redis bus', () => redisBus());

/** Two nodes' buses on the machine's Redis, sharing a fresh prefix (an installation of their own). */
async function twoNodes(): Promise<[EventBus, EventBus]> {
  const prefix = `parley-test-${randomUUID().slice(0, 8)}:`;
  const node = () => createRedisBus({ url: REDIS_URL, prefix, logger, onHandlerError: () => {} });
  return [await node(), await node()];
}

describe('redis bus across nodes', () => {
  it('carries a message published on one node to the subscribers of another', async () => {
    const [nodeA, nodeB] = await twoNodes();
    try {
      const got: BusMessage[] = [];
      nodeB.subscribe('conversation:x', (m) => got.push(m));
      await nodeB.ready();
      await nodeA.publish('conversation:x', { kind: 'routing_changed', accountId: 'a' });
      await expect.poll(() => got).toEqual([{ kind: 'routing_changed', accountId: 'a' }]);
    } finally {
      await Promise.all([nodeA.close(), nodeB.close()]);
    }
  });

  it('delivers a node’s own messages to its subscribers at once, and once: not again when Redis echoes them', async () => {
    const [nodeA, nodeB] = await twoNodes();
    try {
      const onA: BusMessage[] = [];
      const onB: BusMessage[] = [];
      nodeA.subscribe('conversation:x', (m) => onA.push(m));
      nodeB.subscribe('conversation:x', (m) => onB.push(m));
      await Promise.all([nodeA.ready(), nodeB.ready()]);
      const published = nodeA.publish('conversation:x', { kind: 'routing_changed', accountId: 'a' });
      expect(onA).toEqual([{ kind: 'routing_changed', accountId: 'a' }]); // in the publishing turn
      await published;
      await expect.poll(() => onB).toEqual([{ kind: 'routing_changed', accountId: 'a' }]);
      // Redis has sent it back to node A too by now (B got it after A's publish was answered); A dropped it.
      await nodeB.publish('conversation:x', { kind: 'routing_changed', accountId: 'b' });
      await expect.poll(() => onA.length).toBe(2);
      expect(onA).toEqual([
        { kind: 'routing_changed', accountId: 'a' },
        { kind: 'routing_changed', accountId: 'b' },
      ]);
      expect(onB).toEqual(onA);
    } finally {
      await Promise.all([nodeA.close(), nodeB.close()]);
    }
  });

  it("sends a turn's publishes to Redis in one write, and the other node gets them in order", async () => {
    const [nodeA, nodeB] = await twoNodes();
    const redisPort = Number(new URL(REDIS_URL).port || 6379);
    // What a socket hands the kernel: `_write` for one chunk, `_writev` for all the chunks it buffered while corked.
    const { _write: write, _writev: writev } = net.Socket.prototype;
    let writes = 0;
    try {
      const got: string[] = [];
      nodeB.subscribe('conversation:x', (m) => got.push(m.kind === 'routing_changed' ? m.accountId : m.kind));
      await Promise.all([nodeA.ready(), nodeB.ready()]);
      // Every write of this process to Redis is counted while the burst goes out: only node A's publisher writes.
      net.Socket.prototype._write = function (this: net.Socket, ...args: Parameters<typeof write>) {
        if (this.remotePort === redisPort) writes += 1;
        return write.apply(this, args);
      };
      net.Socket.prototype._writev = function (this: net.Socket, ...args: Parameters<NonNullable<typeof writev>>) {
        if (this.remotePort === redisPort) writes += 1;
        return writev?.apply(this, args);
      };
      const burst = Array.from({ length: 100 }, (_, i) => `a${i}`);
      for (const accountId of burst) void nodeA.publish('conversation:x', { kind: 'routing_changed', accountId });
      await expect.poll(() => got.length).toBe(burst.length);
      expect(got).toEqual(burst);
      expect(writes).toBe(1);
    } finally {
      net.Socket.prototype._write = write;
      net.Socket.prototype._writev = writev;
      await Promise.all([nodeA.close(), nodeB.close()]);
    }
  });

  it('reads a message without an origin, as a node of an earlier version publishes it', async () => {
    const prefix = `parley-test-${randomUUID().slice(0, 8)}:`;
    const node = await createRedisBus({ url: REDIS_URL, prefix, logger, onHandlerError: () => {} });
    const earlier = new Redis(REDIS_URL);
    try {
      const got: BusMessage[] = [];
      node.subscribe('conversation:x', (m) => got.push(m));
      await node.ready();
      await earlier.publish(`${prefix}conversation:x`, JSON.stringify({ kind: 'routing_changed', accountId: 'a' }));
      await expect.poll(() => got).toEqual([{ kind: 'routing_changed', accountId: 'a' }]);
    } finally {
      earlier.disconnect();
      await node.close();
    }
  });

  it('asks subscribers to resync after Redis restarts, and delivers again', async () => {
    const redis = await startLocalRedis();
    const url = redis.url;
    let publishFailures = 0;
    const publisher = await createRedisBus({ url, logger, onHandlerError: () => {}, onPublishError: () => publishFailures++ });
    const bus = await createRedisBus({ url, logger, onHandlerError: () => {} });
    try {
      let resyncs = 0;
      bus.onResync(() => {
        resyncs += 1;
      });
      const got: BusMessage[] = [];
      bus.subscribe('topic', (m) => got.push(m));
      const local: BusMessage[] = [];
      publisher.subscribe('topic', (m) => local.push(m));
      await Promise.all([bus.ready(), publisher.ready()]);

      await redis.stop();
      // Its own subscriber has it at once; the other node's is lost, and counted.
      await expect(publisher.publish('topic', { kind: 'routing_changed', accountId: 'lost' })).resolves.toBeUndefined();
      await expect.poll(() => publishFailures, { timeout: 10_000 }).toBe(1);
      await redis.start();
      await expect.poll(() => resyncs, { timeout: 10_000 }).toBe(1);
      await Promise.all([bus.ready(), publisher.ready()]);
      await publisher.publish('topic', { kind: 'routing_changed', accountId: 'after' });
      await expect.poll(() => got.map((m) => (m.kind === 'routing_changed' ? m.accountId : ''))).toEqual(['after']);
      // The publishing node's own subscriber did not need Redis: it had both.
      expect(local.map((m) => (m.kind === 'routing_changed' ? m.accountId : ''))).toEqual(['lost', 'after']);
    } finally {
      await Promise.all([bus.close(), publisher.close()]);
      await redis.destroy();
    }
  });
});
