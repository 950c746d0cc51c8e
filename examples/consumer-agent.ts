/**
 * A consumer and an agent talk through the SDK; the consumer drops off, the agent sends three messages, the consumer
 * comes back and receives exactly those three, in order, once.
 *
 *   npm run example                       starts its own Parley (embedded, in a temporary folder) and runs against it
 *   PARLEY_URL=http://127.0.0.1:8080 PARLEY_WIDGET_KEY=pwk_... PARLEY_EMAIL=admin@parley.local PARLEY_PASSWORD=... npm run example
 *                                         runs against a Parley that is already running (an admin or agent login)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConversationEvent } from '@parley/protocol';
import { createAgent, createConsumer } from '@parley/sdk';
import WebSocket from 'ws';

export interface ExampleOptions {
  baseUrl: string;
  widgetKey: string;
  email: string;
  password: string;
  log?: (line: string) => void;
}

const textOf = (event: ConversationEvent) => (event.type === 'content' && event.content.contentType === 'text/plain' ? event.content.message : undefined);

function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (condition()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

/** Runs the scenario; returns what the consumer received after coming back. */
export async function runExample({ baseUrl, widgetKey, email, password, log = console.log }: ExampleOptions): Promise<{ receivedAfterReconnect: Array<{ sequence: number; text: string }> }> {
  const consumer = await createConsumer({ baseUrl, widgetKey, WebSocket });
  const agent = await createAgent({ baseUrl, email, password, WebSocket });
  const conversationId = consumer.conversation.id;
  log(`consumer ${consumer.consumerId} ${consumer.created ? 'started' : 'continues'} conversation ${conversationId}`);

  const consumerSaw: ConversationEvent[] = [];
  consumer.realtime.on('event', (event) => {
    consumerSaw.push(event);
    const text = textOf(event);
    if (text !== undefined) log(`  consumer <- #${event.sequence} ${event.originator.role}: ${text}`);
  });
  const agentSaw: ConversationEvent[] = [];
  agent.realtime.on('event', (event) => agentSaw.push(event));
  await consumer.realtime.subscribe(conversationId);

  const hello = await consumer.realtime.send({ conversationId, event: { type: 'content', content: { contentType: 'text/plain', message: 'Hi, where is my order 1234?' } } });
  log(`consumer -> #${hello.sequence} Hi, where is my order 1234?`);

  await agent.rest.takeConversation(conversationId);
  await agent.realtime.subscribe(conversationId);
  await waitFor(() => agentSaw.some((e) => e.sequence === hello.sequence), 'the agent to see the question');
  const answer = await agent.realtime.send({ conversationId, event: { type: 'content', content: { contentType: 'text/plain', message: 'Let me check that for you.' } } });
  await waitFor(() => consumerSaw.some((e) => e.sequence === answer.sequence), 'the consumer to see the answer');

  log('consumer goes away (closes the connection)');
  consumer.realtime.close();
  const lastBefore = consumer.realtime.lastSequence(conversationId) ?? 0;
  const seenBefore = consumerSaw.length;

  const whileAway = ['It shipped yesterday.', 'Tracking: 1Z999AA10123456784.', 'Anything else I can help with?'];
  for (const message of whileAway) {
    const ack = await agent.realtime.send({ conversationId, event: { type: 'content', content: { contentType: 'text/plain', message } } });
    log(`agent -> #${ack.sequence} ${message} (consumer away)`);
  }

  log(`consumer comes back and resumes after #${lastBefore}`);
  consumer.realtime.connect();
  await waitFor(() => consumerSaw.slice(seenBefore).filter((e) => textOf(e) !== undefined).length >= whileAway.length, 'the three messages');
  // Give any duplicate a moment to show up before counting.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const receivedAfterReconnect = consumerSaw.slice(seenBefore).flatMap((e) => {
    const text = textOf(e);
    return text === undefined ? [] : [{ sequence: e.sequence, text }];
  });

  const inOrderOnce = receivedAfterReconnect.length === 3 && receivedAfterReconnect.every((m, i) => m.text === whileAway[i]);
  log(inOrderOnce ? 'consumer received exactly the three messages, in order, once' : `UNEXPECTED: ${JSON.stringify(receivedAfterReconnect)}`);
  consumer.close();
  agent.close();
  return { receivedAfterReconnect };
}

async function main(): Promise<void> {
  const { PARLEY_URL, PARLEY_WIDGET_KEY, PARLEY_EMAIL, PARLEY_PASSWORD } = process.env;
  if (PARLEY_URL && PARLEY_WIDGET_KEY && PARLEY_EMAIL && PARLEY_PASSWORD) {
    await runExample({ baseUrl: PARLEY_URL, widgetKey: PARLEY_WIDGET_KEY, email: PARLEY_EMAIL, password: PARLEY_PASSWORD });
    return;
  }
  // No server given: start one in this process, on an embedded database in a temporary folder.
  const { loadConfig } = await import('../packages/server/src/config/config.ts');
  const { createServer } = await import('../packages/server/src/server.ts');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-example-'));
  const password = 'example-admin-password';
  const server = await createServer(loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn', BOOTSTRAP_ADMIN_PASSWORD: password }));
  try {
    const baseUrl = await server.listen();
    const bootstrap = server.bootstrap;
    if (!bootstrap) throw new Error('expected a fresh account');
    console.log(`started Parley at ${baseUrl} (data in ${dataDir})`);
    const result = await runExample({ baseUrl, widgetKey: bootstrap.widgetKey, email: bootstrap.adminEmail, password });
    if (result.receivedAfterReconnect.length !== 3) process.exitCode = 1;
  } finally {
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
