import { type ConversationEvent, type ServerFrame, ServerFrameSchema, WS_PATH } from '@parley/protocol';
import { type Agent, type Consumer, createAgent, createConsumer, type RealtimeClient } from '@parley/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type LocalPostgres, type LocalRedis, startLocalPostgres, startLocalRedis } from '../../../scripts/cluster/local-services.ts';
import { createScratchDatabase, http, killAllChildren, type ServerProcess, startServerProcess } from './test/server-process.ts';

/**
 * Cluster mode under failure, with real server processes on this machine: a node SIGKILLed while consumers and agents
 * talk through it, Redis restarted during traffic, PostgreSQL stopped briefly during traffic. Clients are the SDK, which
 * fails over by being given a `baseUrl` function that answers a live node (as a client behind DNS or a load balancer
 * would get). The PostgreSQL and Redis are this file's own throw-away instances on spare ports, so stopping them
 * touches nothing else. Checked every time: each acknowledged message is stored once at its acknowledged sequence and
 * delivered to the other side exactly once, in order, with nothing missing.
 */

const needsServices = !process.env.PARLEY_TEST_DATABASE_URL;
const ADMIN_EMAIL = 'cluster-admin@parley.test';
const PASSWORD = 'cluster-failure-password';
/** Between two sends of one party in one conversation. */
const SEND_EVERY_MS = 40;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(50);
  }
}

interface Cluster {
  nodes: ServerProcess[];
  widgetKey: string;
  adminToken: string;
  /** A `baseUrl` for the SDK: the home node while it runs, else the next live node. */
  pickLive(home: number): () => string;
  stop(): Promise<void>;
}

interface ConsumerParty {
  name: string;
  consumer: Consumer;
  conversationId: string;
}

interface Acked {
  conversationId: string;
  sequence: number;
  eventId: string;
}

/** Sends, acknowledgements and deliveries of every party in one test, and the checks on them. */
class Traffic {
  running = true;
  sent = 0;
  readonly acked = new Map<string, Acked>();
  readonly rejected: string[] = [];
  /** party -> conversation -> delivered sequences, in delivery order. */
  readonly delivered = new Map<string, Map<string, number[]>>();
  readonly pumps: Promise<void>[] = [];
  private counter = 0;

  record(party: string, realtime: RealtimeClient): void {
    const mine = new Map<string, number[]>();
    this.delivered.set(party, mine);
    realtime.on('event', (event: ConversationEvent) => {
      const list = mine.get(event.conversationId) ?? [];
      list.push(event.sequence);
      mine.set(event.conversationId, list);
    });
  }

  /** One send after another from `party` into the conversation, until stopped or `stillMine()` turns false. */
  pump(party: string, realtime: RealtimeClient, conversationId: string, stillMine: () => boolean = () => true): void {
    const run = async () => {
      while (this.running && stillMine() && realtime.state !== 'closed') {
        const clientMessageId = `${party}-${this.counter++}`;
        this.sent++;
        try {
          const ack = await realtime.send({ conversationId, clientMessageId, event: { type: 'content', content: { contentType: 'text/plain', message: `${clientMessageId} says hello` } } });
          this.acked.set(clientMessageId, { conversationId, sequence: ack.sequence, eventId: ack.eventId });
        } catch (error) {
          this.rejected.push(`${clientMessageId}: ${error instanceof Error ? error.message : String(error)}`);
          return;
        }
        await sleep(SEND_EVERY_MS);
      }
    };
    this.pumps.push(run());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.pumps);
  }

  sequencesOf(party: string, conversationId: string): number[] {
    return this.delivered.get(party)?.get(conversationId) ?? [];
  }

  ackedIn(conversationId: string): number {
    return [...this.acked.values()].filter((a) => a.conversationId === conversationId).length;
  }
}

/** Every event of a conversation through the public API, page by page. */
async function readAll(baseUrl: string, token: string, conversationId: string): Promise<ConversationEvent[]> {
  const events: ConversationEvent[] = [];
  let fromSeq = 0;
  for (;;) {
    const page = await http(baseUrl, 'listEvents', { token, params: { conversationId }, query: { fromSeq, limit: 500 } });
    if (page.status !== 200) throw new Error(`listEvents: ${page.status} ${JSON.stringify(page.body)}`);
    events.push(...page.body.items);
    const last = page.body.items.at(-1);
    if (!page.body.hasMore || !last) return events;
    fromSeq = last.sequence + 1;
  }
}

/**
 * The end-to-end checks: every acknowledged message is stored once, at its acknowledged sequence; the consumer got
 * every stored event it may see, and the agent every stored event, each exactly once and in sequence order.
 * Waits (up to the timeout) for deliveries still on their way.
 */
async function expectExactlyOnce(traffic: Traffic, baseUrl: string, adminToken: string, conversations: Array<{ id: string; consumer: string; agent: () => string }>): Promise<number> {
  let delivered = 0;
  for (const conversation of conversations) {
    const stored = await readAll(baseUrl, adminToken, conversation.id);
    expect(stored.map((e) => e.sequence)).toEqual(stored.map((_, i) => i + 1));
    const byClientId = new Map<string, ConversationEvent[]>();
    for (const event of stored) {
      if (event.type !== 'content' || event.clientMessageId === null) continue;
      byClientId.set(event.clientMessageId, [...(byClientId.get(event.clientMessageId) ?? []), event]);
    }
    for (const [clientMessageId, copies] of byClientId) expect(copies, `copies of ${clientMessageId}`).toHaveLength(1);
    for (const [clientMessageId, ack] of traffic.acked) {
      if (ack.conversationId !== conversation.id) continue;
      const copies = byClientId.get(clientMessageId);
      expect(
        copies?.map((e) => [e.sequence, e.id]),
        `acknowledged ${clientMessageId}`,
      ).toEqual([[ack.sequence, ack.eventId]]);
    }
    const forConsumer = stored.filter((e) => e.audience === 'all').map((e) => e.sequence);
    const forAgent = stored.map((e) => e.sequence);
    const agent = conversation.agent();
    // Live delivery may still be finishing; everything must arrive, once, in order.
    await until(`${conversation.consumer} and ${agent} receive all of ${conversation.id}`, () => {
      return traffic.sequencesOf(conversation.consumer, conversation.id).length >= forConsumer.length && traffic.sequencesOf(agent, conversation.id).length >= forAgent.length;
    }).catch(() => undefined);
    expect(traffic.sequencesOf(conversation.consumer, conversation.id), `what ${conversation.consumer} received`).toEqual(forConsumer);
    expect(traffic.sequencesOf(agent, conversation.id), `what ${agent} received`).toEqual(forAgent);
    delivered += forConsumer.length + forAgent.length;
  }
  return delivered;
}

describe.skipIf(needsServices)('cluster mode under failure (real processes; runs in the PostgreSQL pass: needs PARLEY_TEST_DATABASE_URL)', () => {
  let postgres: LocalPostgres | undefined;
  let redis: LocalRedis | undefined;
  const cleanups: Array<() => unknown> = [];

  beforeAll(async () => {
    postgres = await startLocalPostgres();
    redis = await startLocalRedis();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // Keep cleaning up.
      }
    }
  });
  afterAll(async () => {
    killAllChildren();
    await redis?.destroy();
    await postgres?.destroy();
  });

  async function startCluster(count: number, env: Record<string, string>): Promise<Cluster> {
    if (!postgres || !redis) throw new Error('services not started');
    const database = await createScratchDatabase(postgres.url);
    const common = {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
      BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
      WS_RATE_LIMIT_PER_SECOND: '1000',
      WS_RATE_LIMIT_BURST: '1000',
      ROUTING_SWEEP_INTERVAL_MS: '200',
      SHUTDOWN_GRACE_MS: '3000',
      PUBLIC_RATE_LIMIT_PER_MINUTE: '0',
      ...env,
    };
    const nodes: ServerProcess[] = [];
    const stop = async () => {
      for (const node of nodes) {
        const exit = node.exit();
        // A node that died by itself (not our SIGKILL) is a failure to explain: show how it ended.
        if (exit && exit.signal !== 'SIGKILL')
          console.error(
            `node ${node.pid} exited (${exit.code ?? exit.signal}):\n${node.stderr().slice(-4000)}\n${node
              .stdout()
              .split('\n')
              .filter((l) => l.includes('"level":50') || l.includes('"level":60'))
              .slice(-5)
              .join('\n')}`,
          );
      }
      await Promise.all(nodes.map((n) => n.kill()));
      await database.drop();
    };
    cleanups.push(stop);
    // The first node alone migrates the database and creates the account; the others join it.
    nodes.push(await startServerProcess({ ...common, NODE_ID: 'node-0' }));
    nodes.push(...(await Promise.all(Array.from({ length: count - 1 }, (_, i) => startServerProcess({ ...common, NODE_ID: `node-${i + 1}` })))));
    const widgetKey = nodes[0]?.widgetKey;
    if (!widgetKey) throw new Error('the first node printed no widget key');
    const base = nodes[0]?.baseUrl ?? '';
    const login = await http(base, 'login', { body: { email: ADMIN_EMAIL, password: PASSWORD } });
    expect(login.status).toBe(200);
    const pickLive = (home: number) => () => {
      for (let i = 0; i < nodes.length; i++) {
        const node = nodes[(home + i) % nodes.length];
        if (node && !node.exit()) return node.baseUrl;
      }
      throw new Error('no node is running');
    };
    return { nodes, widgetKey, adminToken: login.body.accessToken, pickLive, stop };
  }

  const realtimeOptions = { reconnect: { initialDelayMs: 50, maxDelayMs: 500, jitter: 0.5 }, requestTimeoutMs: 10_000, pingIntervalMs: 2_000 };

  async function agentOn(cluster: Cluster, traffic: Traffic, name: string, home: number): Promise<{ name: string; agent: Agent; userId: string; conversations: Set<string> }> {
    const admin = cluster.nodes[0]?.baseUrl ?? '';
    const email = `${name}@parley.test`;
    const created = await http(admin, 'createUser', { token: cluster.adminToken, body: { email, name, role: 'agent', password: PASSWORD } });
    expect(created.status).toBe(201);
    const agent = await createAgent({ baseUrl: cluster.pickLive(home), email, password: PASSWORD, WebSocket, realtime: realtimeOptions });
    cleanups.push(() => agent.close());
    traffic.record(name, agent.realtime);
    const conversations = new Set<string>();
    const userId = created.body.id;
    const take = (conversationId: string) => {
      if (conversations.has(conversationId)) return;
      conversations.add(conversationId);
      void agent.realtime.subscribe(conversationId).catch(() => undefined);
      traffic.pump(name, agent.realtime, conversationId, () => conversations.has(conversationId));
    };
    agent.realtime.on('conversation', (c) => {
      if (c.assignedAgentId === userId && c.state === 'open') take(c.id);
      else conversations.delete(c.id);
    });
    // A notice missed while reconnecting is found by looking: the inbox is the truth.
    const reconcile = setInterval(() => {
      if (agent.realtime.state !== 'open') return;
      agent.rest
        .listConversations({ state: 'open', scope: 'mine' })
        .then((list) => {
          for (const c of list.items) if (c.assignedAgentId === userId) take(c.id);
        })
        .catch(() => undefined);
    }, 500);
    cleanups.push(() => clearInterval(reconcile));
    await until(`${name} connected`, async () => (await agent.rest.getMyState()).connected);
    await agent.rest.setMyState({ state: 'online' });
    return { name, agent, userId, conversations };
  }

  async function consumerOn(cluster: Cluster, traffic: Traffic, name: string, home: number): Promise<ConsumerParty> {
    const consumer = await createConsumer({ baseUrl: cluster.pickLive(home), widgetKey: cluster.widgetKey, WebSocket, realtime: realtimeOptions });
    cleanups.push(() => consumer.close());
    traffic.record(name, consumer.realtime);
    const conversationId = consumer.conversation.id;
    await consumer.realtime.subscribe(conversationId);
    return { name, consumer, conversationId };
  }

  /** The conversation's agent now, by name. */
  async function assigneeOf(cluster: Cluster, conversationId: string, agents: Array<{ name: string; userId: string }>): Promise<string | undefined> {
    const found = await http(cluster.pickLive(0)(), 'getConversation', { token: cluster.adminToken, params: { conversationId } });
    return agents.find((a) => a.userId === found.body.assignedAgentId)?.name;
  }

  it('SIGKILL of one node of three: its clients resume on the others, and its lost agent’s conversations go to the agents still online', async () => {
    const cluster = await startCluster(3, { WS_HEARTBEAT_INTERVAL_MS: '500' });
    const admin = cluster.nodes[0]?.baseUrl ?? '';
    const settings = await http(admin, 'updateRoutingSettings', { token: cluster.adminToken, body: { disconnectGraceSeconds: 1, defaultMaxConversations: 10 } });
    expect(settings.status).toBe(200);
    const traffic = new Traffic();

    // Node 2 will die. agent-stays-0 lives on node 0; agent-moves-2 on node 2 and fails over; agent-gone-2 is on node 2
    // only and never comes back (its laptop went with the node).
    const agents = [await agentOn(cluster, traffic, 'agent-stays-0', 0), await agentOn(cluster, traffic, 'agent-moves-2', 2), await agentOn(cluster, traffic, 'agent-gone-2', 2)];
    const [, moving, gone] = agents;
    if (!moving || !gone) throw new Error('three agents expected');
    const consumers: ConsumerParty[] = [];
    for (let i = 0; i < 6; i++) {
      const party = await consumerOn(cluster, traffic, `consumer-${i}-on-${i % 3}`, i % 3);
      consumers.push(party);
      traffic.pump(party.name, party.consumer.realtime, party.conversationId);
    }
    // Every conversation is assigned (most free capacity first: two each) and every agent is talking.
    await until('every conversation assigned and answered', () => consumers.every((c) => agents.some((a) => a.conversations.has(c.conversationId))));
    const goneHeld = consumers.filter((c) => gone.conversations.has(c.conversationId)).map((c) => c.conversationId);
    expect(goneHeld.length).toBeGreaterThan(0);
    await sleep(1_000);

    const victim = cluster.nodes[2];
    if (!victim) throw new Error('three nodes expected');
    const onVictim = [moving.agent.realtime, ...consumers.filter((_, i) => i % 3 === 2).map((c) => c.consumer.realtime)];
    const ackedAtKill = traffic.acked.size;
    const killedAt = Date.now();
    const exit = await victim.kill();
    expect(exit.signal).toBe('SIGKILL');
    gone.agent.close();
    // Each client of the dead node is back (open) on another node.
    const reconnectMs = await Promise.all(onVictim.map((client) => until('reconnected', () => client.state === 'open').then(() => Date.now() - killedAt)));

    // The lost agent goes offline after heartbeats stop (3 × 500 ms) and the grace period (1 s); their conversations
    // go to the agents still online.
    const goneId = gone.userId;
    const offlineMs = await until('the gone agent offline', async () => {
      const list = await http(admin, 'listAgents', { token: cluster.adminToken });
      return list.body.items.find((a) => a.userId === goneId)?.state === 'offline';
    }).then(() => Date.now() - killedAt);
    const reassignedMs = await until('its conversations reassigned to an online agent', async () => {
      const owners = await Promise.all(goneHeld.map((id) => assigneeOf(cluster, id, agents)));
      return owners.every((o) => o === 'agent-stays-0' || o === 'agent-moves-2');
    }).then(() => Date.now() - killedAt);
    await until('new agents talking in the reassigned conversations', () => goneHeld.every((id) => agents.slice(0, 2).some((a) => a.conversations.has(id))));
    const ackedBeforeEnd = traffic.acked.size;
    await sleep(1_000);
    expect(traffic.acked.size, 'messages keep flowing after the reassignment').toBeGreaterThan(ackedBeforeEnd);
    await traffic.stop();

    const open = await http(admin, 'listConversations', { token: cluster.adminToken, query: { state: 'open', scope: 'all', limit: 200 } });
    for (const conversation of open.body.items) expect(conversation.assignedAgentId, `conversation ${conversation.id}`).not.toBe(goneId);
    const owners = new Map<string, string>();
    for (const c of consumers) owners.set(c.conversationId, (await assigneeOf(cluster, c.conversationId, agents)) ?? '?');
    // agent-gone-2's sends that were waiting when the node died were refused by close(); everyone else's went through.
    expect(traffic.rejected.filter((r) => !r.startsWith('agent-gone-2'))).toEqual([]);
    const delivered = await expectExactlyOnce(
      traffic,
      admin,
      cluster.adminToken,
      consumers.map((c) => ({ id: c.conversationId, consumer: c.name, agent: () => owners.get(c.conversationId) ?? '?' })),
    );
    console.info(
      `[cluster-failures: SIGKILL] sent ${traffic.sent}, acked ${traffic.acked.size} (${ackedAtKill} before the kill), delivered ${delivered}; ` +
        `clients of the dead node reconnected after ${reconnectMs.join('/')} ms; lost agent offline ${offlineMs} ms after the kill, ` +
        `its ${goneHeld.length} conversations reassigned ${reassignedMs} ms after the kill`,
    );
  }, 90_000);

  it('Redis restarted during traffic: delivery resumes once it is back, nothing acknowledged lost or duplicated', async () => {
    const cluster = await startCluster(2, {});
    const admin = cluster.nodes[0]?.baseUrl ?? '';
    const traffic = new Traffic();
    // The agent is on node 1 and its consumers on node 0 and 1: node 0's events reach it only through Redis.
    const agent = await agentOn(cluster, traffic, 'agent-on-1', 1);
    const consumers: ConsumerParty[] = [];
    for (let i = 0; i < 4; i++) {
      const party = await consumerOn(cluster, traffic, `consumer-${i}-on-${i % 2}`, i % 2);
      consumers.push(party);
      traffic.pump(party.name, party.consumer.realtime, party.conversationId);
    }
    await until('every conversation answered', () => consumers.every((c) => agent.conversations.has(c.conversationId)));
    await sleep(800);
    if (!redis) throw new Error('no redis');
    const ackedBefore = traffic.acked.size;
    await redis.stop();
    const stoppedAt = Date.now();
    await sleep(300);
    // Readiness reports the bus but stays 200: the node still stores and acknowledges.
    const readyWhileDown = await fetch(`${admin}/ready`);
    const readyBodyWhileDown = (await readyWhileDown.json()) as { checks: Record<string, string> };
    await sleep(1_200);
    const ackedWhileDown = traffic.acked.size - ackedBefore;
    await redis.start();
    const backAt = Date.now();
    // Something sent on node 0 after the restart reaches the agent on node 1.
    const [first] = consumers;
    if (!first) throw new Error('consumers expected');
    const marker = await first.consumer.realtime.send({ conversationId: first.conversationId, event: { type: 'content', content: { contentType: 'text/plain', message: 'after the restart' } } });
    const resumedMs = await until('a message sent after the restart delivered across nodes', () => traffic.sequencesOf(agent.name, first.conversationId).includes(marker.sequence)).then(
      () => Date.now() - backAt,
    );
    await sleep(1_000);
    await traffic.stop();
    expect(traffic.rejected).toEqual([]);
    expect(readyWhileDown.status).toBe(200);
    expect(readyBodyWhileDown.checks).toMatchObject({ database: 'ok', bus: 'reconnecting' });
    // Each of a node's two Redis connections retries on its own back-off (up to 2 s apart), so the one that carried
    // the marker may be back before the other: readiness says 'reconnecting' until both are.
    await expect.poll(async () => ((await (await fetch(`${admin}/ready`)).json()) as { checks: Record<string, string> }).checks.bus, { timeout: 10_000, interval: 200 }).toBe('ok');
    const delivered = await expectExactlyOnce(
      traffic,
      admin,
      cluster.adminToken,
      consumers.map((c) => ({ id: c.conversationId, consumer: c.name, agent: () => agent.name })),
    );
    for (const node of cluster.nodes) expect(node.exit(), 'no node crashed').toBeUndefined();
    console.info(
      `[cluster-failures: Redis restart] sent ${traffic.sent}, acked ${traffic.acked.size} (${ackedWhileDown} while Redis was down for ${backAt - stoppedAt} ms), delivered ${delivered}; ` +
        `cross-node delivery resumed ${resumedMs} ms after Redis was back`,
    );
  }, 60_000);

  it('PostgreSQL stopped briefly during traffic: retryable errors meanwhile, nothing acknowledged lost, service resumes', async () => {
    const cluster = await startCluster(2, { WS_HEARTBEAT_INTERVAL_MS: '2000' });
    const admin = cluster.nodes[0]?.baseUrl ?? '';
    const traffic = new Traffic();
    const agent = await agentOn(cluster, traffic, 'agent-on-1', 1);
    const consumers: ConsumerParty[] = [];
    for (let i = 0; i < 4; i++) {
      const party = await consumerOn(cluster, traffic, `consumer-${i}-on-${i % 2}`, i % 2);
      consumers.push(party);
      traffic.pump(party.name, party.consumer.realtime, party.conversationId);
    }
    await until('every conversation answered', () => consumers.every((c) => agent.conversations.has(c.conversationId)));
    // A raw socket, to look at the error frames themselves (the SDK retries them without showing them).
    const [probeConsumer] = consumers;
    if (!probeConsumer) throw new Error('consumers expected');
    const probeToken = await http(admin, 'consumerSession', { body: { widgetKey: cluster.widgetKey } });
    const probeConversation = await http(admin, 'startConversation', { token: probeToken.body.accessToken, body: {} });
    const probe = await RawSocket.open(cluster.nodes[1]?.baseUrl ?? '', probeToken.body.accessToken);
    cleanups.push(() => probe.close());
    await sleep(800);

    if (!postgres) throw new Error('no postgres');
    const ackedBefore = traffic.acked.size;
    await postgres.stop();
    const stoppedAt = Date.now();
    await sleep(300);
    const rest = await http(admin, 'listEvents', { token: probeToken.body.accessToken, params: { conversationId: probeConversation.body.conversation.id } });
    const ws = await probe.request({
      type: 'send',
      conversationId: probeConversation.body.conversation.id,
      clientMessageId: 'probe-during-outage',
      event: { type: 'content', content: { contentType: 'text/plain', message: 'anyone there?' } },
    });
    const ready = await fetch(`${admin}/ready`);
    await sleep(1_200);
    const ackedWhileDown = traffic.acked.size - ackedBefore;
    await postgres.start();
    const backAt = Date.now();
    const resumedMs = await until('acknowledgements again', () => traffic.acked.size > ackedBefore + ackedWhileDown + consumers.length).then(() => Date.now() - backAt);
    await until('/ready again', async () => (await fetch(`${admin}/ready`)).status === 200);
    await sleep(1_000);
    await traffic.stop();

    expect(rest.status).toBe(503);
    expect(rest.body.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(ws).toMatchObject({ ok: false, error: { code: 'SERVICE_UNAVAILABLE', retryable: true } });
    expect(ready.status).toBe(503);
    expect(traffic.rejected).toEqual([]);
    for (const node of cluster.nodes) expect(node.exit(), 'no node crashed').toBeUndefined();
    const delivered = await expectExactlyOnce(
      traffic,
      admin,
      cluster.adminToken,
      consumers.map((c) => ({ id: c.conversationId, consumer: c.name, agent: () => agent.name })),
    );
    console.info(
      `[cluster-failures: PostgreSQL stop] sent ${traffic.sent}, acked ${traffic.acked.size} (${ackedWhileDown} while PostgreSQL was down for ${backAt - stoppedAt} ms), delivered ${delivered}; ` +
        `REST answered ${rest.status} ${rest.body.error?.code}, WebSocket ${ws.ok ? 'ok' : ws.error?.code}; acknowledgements resumed ${resumedMs} ms after it was back`,
    );
  }, 60_000);
});

type ResponseFrame = Extract<ServerFrame, { type: 'response' }>;

/** A bare authenticated socket: request -> response frame, whatever it says. */
class RawSocket {
  private nextId = 1;
  private readonly pending = new Map<string, (frame: ResponseFrame) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = ServerFrameSchema.parse(JSON.parse(data.toString()));
      if (frame.type !== 'response') return;
      this.pending.get(frame.id)?.(frame);
      this.pending.delete(frame.id);
    });
    socket.on('error', () => {});
  }

  static async open(baseUrl: string, token: string): Promise<RawSocket> {
    const socket = new WebSocket(baseUrl.replace(/^http/, 'ws') + WS_PATH);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const raw = new RawSocket(socket);
    const auth = await raw.request({ type: 'auth', token });
    if (!auth.ok) throw new Error(`auth failed: ${JSON.stringify(auth.error)}`);
    return raw;
  }

  request(frame: Record<string, unknown>): Promise<ResponseFrame> {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response to ${String(frame.type)} within 10 s`)), 10_000);
      this.pending.set(id, (response) => {
        clearTimeout(timer);
        resolve(response);
      });
      this.socket.send(JSON.stringify({ id, ...frame }));
    });
  }

  close(): void {
    this.socket.terminate();
  }
}
