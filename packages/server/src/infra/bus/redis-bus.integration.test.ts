import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../telemetry/logger.ts';
import { describeEventBus } from './event-bus.contract.ts';
import type { BusMessage } from './event-bus.ts';
import { createRedisBus } from './redis-bus.ts';

/** The machine's Redis (CI runs one), unless PARLEY_TEST_REDIS_URL names another. */
const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = createLogger({ level: 'silent' });
const redisBus = (url = REDIS_URL) => createRedisBus({ url, prefix: `parley-test-${randomUUID().slice(0, 8)}:`, logger, onHandlerError: () => {} });

describeEventBus('redis bus', () => redisBus());

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A Redis of our own on another port, so a test can stop it without touching the machine's. */
async function startOwnRedis(port: number): Promise<{ stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('redis bus across nodes', () => {
  it('carries a message published on one node to the subscribers of another', async () => {
    const prefix = `parley-test-${randomUUID().slice(0, 8)}:`;
    const nodeA = await createRedisBus({ url: REDIS_URL, prefix, logger, onHandlerError: () => {} });
    const nodeB = await createRedisBus({ url: REDIS_URL, prefix, logger, onHandlerError: () => {} });
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

  it('asks subscribers to resync after Redis restarts, and delivers again', async () => {
    const port = await freePort();
    let redis = await startOwnRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    const bus = await createRedisBus({ url, logger, onHandlerError: () => {} });
    try {
      let resyncs = 0;
      bus.onResync(() => {
        resyncs += 1;
      });
      const got: BusMessage[] = [];
      bus.subscribe('topic', (m) => got.push(m));
      await bus.ready();

      await redis.stop();
      await expect(bus.publish('topic', { kind: 'routing_changed', accountId: 'lost' })).rejects.toThrow();
      redis = await startOwnRedis(port);
      await expect.poll(() => resyncs, { timeout: 10_000 }).toBe(1);
      await bus.ready();
      await bus.publish('topic', { kind: 'routing_changed', accountId: 'after' });
      await expect.poll(() => got.map((m) => (m.kind === 'routing_changed' ? m.accountId : ''))).toEqual(['after']);
    } finally {
      await bus.close();
      await redis.stop();
    }
  });
});
