import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { ConversationEvent, ConversationSummary } from '@parley/protocol';
import { createAgent, createConsumer } from '@parley/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from './config/config.ts';
import { createLogger } from './infra/telemetry/logger.ts';
import { createServer, type ParleyServer } from './server.ts';
import { createTestDatabase, storageMode } from './test/test-database.ts';

const REDIS_URL = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PASSWORD = 'cluster-admin-password';
/** Requests a minute per client address on the public endpoints, for the whole cluster: more than the tests' logins. */
const PUBLIC_LIMIT = 30;

/**
 * Cluster mode: identical nodes over one PostgreSQL and one Redis. PGlite is one process's database, so this runs in
 * the PostgreSQL pass of the suite only.
 */
describe.skipIf(storageMode === 'embedded')('two nodes over one PostgreSQL and Redis', () => {
  const nodes: { server: ParleyServer; url: string }[] = [];
  let drop: () => Promise<void>;
  let widgetKey = '';
  let adminEmail = '';
  const filesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-cluster-files-'));

  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    const prefix = `parley-cluster-${randomUUID().slice(0, 8)}`;
    for (const name of ['a', 'b']) {
      const config = loadConfig({
        PORT: '0',
        DATABASE_URL: database.url,
        REDIS_URL,
        NODE_ID: `${prefix}-${name}`,
        FILES_DIR: filesDir,
        BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
        BOOTSTRAP_ADMIN_EMAIL: `admin-${prefix}@parley.test`,
        LOG_LEVEL: 'silent',
        ROUTING_SWEEP_INTERVAL_MS: '200',
        PUBLIC_RATE_LIMIT_PER_MINUTE: String(PUBLIC_LIMIT),
      });
      const server = await createServer(config, { logger: createLogger({ level: 'silent' }) });
      nodes.push({ server, url: await server.listen() });
      if (server.bootstrap) {
        widgetKey = server.bootstrap.widgetKey;
        adminEmail = server.bootstrap.adminEmail;
      }
    }
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.server.close()));
    await drop?.();
    fs.rmSync(filesDir, { recursive: true, force: true });
  });

  it('bootstraps one account for the whole cluster', async () => {
    expect(nodes.filter((n) => n.server.bootstrap)).toHaveLength(1);
    expect(widgetKey).toMatch(/^pwk_/);
  });

  it('routes a consumer on one node to an agent on the other, and carries their messages both ways', async () => {
    const [a, b] = nodes;
    if (!a || !b) throw new Error('two nodes expected');
    const consumer = await createConsumer({ baseUrl: a.url, widgetKey, WebSocket });
    const agent = await createAgent({ baseUrl: b.url, email: adminEmail, password: PASSWORD, WebSocket });
    try {
      const assigned: ConversationSummary[] = [];
      agent.realtime.on('conversation', (c) => assigned.push(c));
      const agentSaw: ConversationEvent[] = [];
      agent.realtime.on('event', (e) => agentSaw.push(e));
      const consumerSaw: ConversationEvent[] = [];
      consumer.realtime.on('event', (e) => consumerSaw.push(e));
      agent.realtime.connect();
      await expect.poll(async () => (await agent.rest.getMyState()).connected, { timeout: 5_000 }).toBe(true);
      await agent.rest.setMyState({ state: 'online' });

      const conversationId = consumer.conversation.id;
      await consumer.realtime.subscribe(conversationId);
      await consumer.realtime.send({ conversationId, event: { type: 'content', content: { contentType: 'text/plain', message: 'Hello from node A' } } });
      // The pass ran on node A; the assignment reached the agent's socket on node B through Redis.
      await expect.poll(() => assigned.some((c) => c.id === conversationId && c.assignedAgentId !== null), { timeout: 5_000 }).toBe(true);

      await agent.realtime.subscribe(conversationId);
      await expect.poll(() => agentSaw.some((e) => e.type === 'content' && e.content.contentType === 'text/plain' && e.content.message === 'Hello from node A')).toBe(true);
      const reply = await agent.realtime.send({ conversationId, event: { type: 'content', content: { contentType: 'text/plain', message: 'Hello from node B' } } });
      await expect.poll(() => consumerSaw.some((e) => e.sequence === reply.sequence)).toBe(true);
      // Exactly once each, in sequence order.
      const sequences = consumerSaw.map((e) => e.sequence);
      expect(sequences).toEqual([...new Set(sequences)].sort((x, y) => x - y));
    } finally {
      consumer.close();
      agent.close();
    }
  });

  // Last: it spends this address's allowance on the public endpoints.
  it('limits a client address once for the cluster, not once per node', async () => {
    const [a, b] = nodes;
    if (!a || !b) throw new Error('two nodes expected');
    const widgetConfig = async (url: string) => (await fetch(`${url}/v1/widget/config?widgetKey=${encodeURIComponent(widgetKey)}`)).status;
    const statuses: number[] = [];
    for (let i = 0; i < 2 * PUBLIC_LIMIT; i++) statuses.push(await widgetConfig(i % 2 === 0 ? a.url : b.url));
    const allowed = statuses.filter((s) => s === 200).length;
    // Earlier tests spent a few of the allowance (logins, a consumer session); per-node buckets would allow about twice it.
    expect(allowed).toBeGreaterThan(0);
    expect(allowed).toBeLessThanOrEqual(PUBLIC_LIMIT);
    expect(statuses.slice(PUBLIC_LIMIT)).toEqual(Array.from({ length: PUBLIC_LIMIT }, () => 429));
  });
});
