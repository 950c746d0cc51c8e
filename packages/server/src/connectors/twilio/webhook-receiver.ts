import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChannelConnector, ConnectorChannel, InboundItem, InboundRequest } from '../channel-connector.ts';
import { InboundRejected } from '../channel-connector.ts';

/**
 * For tests: a 127.0.0.1 server that plays the framework's provider-webhook route with a real connector (plain data
 * in, `handleInbound`, its answer out), recording what it parsed. Lets the simulator's real HTTP webhooks be checked
 * against the connector without a Parley server.
 */
export interface WebhookReceiver {
  url: string;
  requests: InboundRequest[];
  items: InboundItem[];
  /** Statuses of the answers given, in order. */
  answers: number[];
  /** Resolves once `count` items in all have been parsed. */
  waitForItems(count: number, timeoutMs?: number): Promise<InboundItem[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver<S, C>(connector: ChannelConnector<S, C>, channel: ConnectorChannel<S, C>, path = '/webhooks/sms'): Promise<WebhookReceiver> {
  const requests: InboundRequest[] = [];
  const items: InboundItem[] = [];
  const answers: number[] = [];
  const listeners = new Set<() => void>();
  let base = '';

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      const request: InboundRequest = {
        method: req.method === 'GET' ? 'GET' : 'POST',
        url: url.toString(),
        headers,
        query: Object.fromEntries(url.searchParams),
        rawBody: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      let status: number;
      try {
        const result = connector.handleInbound(request, channel);
        if (result.kind === 'challenge') {
          status = 200;
          res.writeHead(200, { 'content-type': 'text/plain' }).end(result.body);
        } else {
          items.push(...result.items);
          status = result.response.status;
          res.writeHead(status, { 'content-type': result.response.contentType }).end(result.response.body);
        }
      } catch (error) {
        status = error instanceof InboundRejected ? error.status : 500;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(error instanceof Error ? error.message : 'error');
      }
      answers.push(status);
      for (const listener of listeners) listener();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `${base}${path}`,
    requests,
    items,
    answers,
    waitForItems(count, timeoutMs = 3000) {
      if (items.length >= count) return Promise.resolve(items.slice(0, count));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`Expected ${count} webhook items, got ${items.length}`));
        }, timeoutMs);
        const check = () => {
          if (items.length < count) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve(items.slice(0, count));
        };
        listeners.add(check);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
