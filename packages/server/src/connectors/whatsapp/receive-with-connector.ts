import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WhatsAppCredentials, WhatsAppSettings } from '@parley/protocol';
import { type ConnectorChannel, InboundRejected, type InboundItem, type InboundRequest } from '../channel-connector.ts';
import { whatsappConnector } from './connector.ts';

/**
 * For tests: a webhook endpoint on 127.0.0.1 that hands each request to `whatsappConnector.handleInbound`, as
 * Parley's provider-webhook route does, and keeps what it parsed.
 */
export interface ConnectorReceiver {
  url: string;
  items: InboundItem[];
  rejected: { status: number; message: string }[];
  close(): Promise<void>;
}

export async function startConnectorReceiver(channel: ConnectorChannel<WhatsAppSettings, WhatsAppCredentials>): Promise<ConnectorReceiver> {
  const items: InboundItem[] = [];
  const rejected: { status: number; message: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
      const request: InboundRequest = {
        method: req.method === 'GET' ? 'GET' : 'POST',
        url: url.toString(),
        headers,
        query: Object.fromEntries(url.searchParams),
        rawBody: Buffer.concat(chunks).toString('utf8'),
      };
      try {
        const result = whatsappConnector.handleInbound(request, channel);
        if (result.kind === 'challenge') {
          res.writeHead(200, { 'content-type': 'text/plain' }).end(result.body);
          return;
        }
        items.push(...result.items);
        res.writeHead(result.response.status, { 'content-type': result.response.contentType }).end(result.response.body);
      } catch (error) {
        if (!(error instanceof InboundRejected)) throw error;
        rejected.push({ status: error.status, message: error.message });
        res.writeHead(error.status).end(error.message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/whatsapp/channel-1`,
    items,
    rejected,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
