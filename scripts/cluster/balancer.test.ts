import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { type Backend, type Balancer, startBalancer } from './balancer.ts';

interface FakeNode {
  backend: Backend;
  ready: boolean;
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A stand-in for a Parley node: `/ready` (200 or 503), `/whoami`, and a WebSocket echo at `/v1/ws`. */
async function fakeNode(name: string): Promise<FakeNode> {
  const node = { ready: true } as FakeNode;
  const server = http.createServer((request, response) => {
    if (request.url === '/ready') response.writeHead(node.ready ? 200 : 503).end();
    else response.writeHead(200, { 'content-type': 'text/plain' }).end(name);
  });
  const wss = new WebSocketServer({ server, path: '/v1/ws' });
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`${name}:${data.toString()}`)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closed = false;
  node.backend = { name, host: '127.0.0.1', port: (server.address() as AddressInfo).port };
  node.close = async () => {
    if (closed) return;
    closed = true;
    for (const client of wss.clients) client.terminate();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanups.push(node.close);
  return node;
}

async function balancerFor(nodes: FakeNode[]): Promise<Balancer> {
  const balancer = await startBalancer({ backends: nodes.map((n) => n.backend), checkIntervalMs: 60_000 });
  cleanups.push(() => balancer.close());
  return balancer;
}

/** One request on a fresh TCP connection (no keep-alive), answered with the node's name. */
async function whoami(balancer: Balancer): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${balancer.port}/whoami`, { headers: { connection: 'close' } });
  return response.text();
}

describe('the cluster load balancer', () => {
  it('hands each new connection to the next ready node, round robin', async () => {
    const nodes = await Promise.all(['a', 'b', 'c'].map(fakeNode));
    const balancer = await balancerFor(nodes);
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await whoami(balancer));
    expect(answers).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(balancer.status().map((s) => s.connections)).toEqual([2, 2, 2]);
  });

  it('leaves out a node whose /ready does not answer 200, and takes it back once it does', async () => {
    const nodes = await Promise.all(['a', 'b', 'c'].map(fakeNode));
    const [, b] = nodes;
    if (!b) throw new Error('three nodes expected');
    b.ready = false;
    const balancer = await balancerFor(nodes);
    expect(balancer.status().map((s) => s.ready)).toEqual([true, false, true]);
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) answers.push(await whoami(balancer));
    expect(answers).toEqual(['a', 'c', 'a', 'c']);
    b.ready = true;
    await balancer.check();
    const after = new Set<string>();
    for (let i = 0; i < 3; i++) after.add(await whoami(balancer));
    expect(after).toEqual(new Set(['a', 'b', 'c']));
  });

  it('moves a connection to the next node when the chosen one refuses it (died between two checks)', async () => {
    const nodes = await Promise.all(['a', 'b'].map(fakeNode));
    const balancer = await balancerFor(nodes);
    await nodes[0]?.close();
    expect(await whoami(balancer)).toBe('b');
    expect(await whoami(balancer)).toBe('b');
    expect(balancer.status().map((s) => s.ready)).toEqual([false, true]);
  });

  it('drops the connection when no node is ready', async () => {
    const nodes = await Promise.all(['a'].map(fakeNode));
    const [a] = nodes;
    if (!a) throw new Error('one node expected');
    a.ready = false;
    const balancer = await balancerFor(nodes);
    await expect(whoami(balancer)).rejects.toThrow();
  });

  it('carries WebSocket upgrades and their frames both ways, and cuts them when closed', async () => {
    const nodes = await Promise.all(['a', 'b'].map(fakeNode));
    const balancer = await balancerFor(nodes);
    const open = async () => {
      const socket = new WebSocket(`ws://127.0.0.1:${balancer.port}/v1/ws`);
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      return socket;
    };
    const echo = (socket: WebSocket, text: string) =>
      new Promise<string>((resolve) => {
        socket.once('message', (data) => resolve(data.toString()));
        socket.send(text);
      });
    const first = await open();
    const second = await open();
    expect(await echo(first, 'hello')).toBe('a:hello');
    expect(await echo(second, 'hello')).toBe('b:hello');
    expect(await echo(first, 'again')).toBe('a:again');
    const closed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    await balancer.close();
    await closed;
    second.terminate();
  });
});
