/**
 * A raw WebSocket relay with the library Parley uses (`ws`), no framework and no storage: the reference for Parley's
 * messaging. Consumers connect at `/c/<consumer>/<agent>`, agents at `/a/<agent>`. Each frame is parsed; the sender gets
 * an acknowledgement with the conversation's next sequence, and the frame goes on, as an event, to the paired socket
 * (a consumer's to its agent; an agent's to the consumer named in its `to`). bench/lib/references.ts runs it as a child
 * process pinned where the Parley node runs, reads `{"port":…}` from its first line of output, and stops it with SIGTERM.
 */
import { type WebSocket, WebSocketServer } from 'ws';

interface RelayFrame {
  id: string;
  to?: number;
  message: string;
}

const consumers = new Map<number, WebSocket>();
const agents = new Map<number, WebSocket>();
const sequences = new Map<number, number>();

function relay(from: WebSocket, to: WebSocket | undefined, conversation: number, frame: RelayFrame): void {
  const sequence = (sequences.get(conversation) ?? 0) + 1;
  sequences.set(conversation, sequence);
  from.send(`{"type":"response","id":${JSON.stringify(frame.id)},"ok":true,"result":{"sequence":${sequence}}}`);
  to?.send(JSON.stringify({ type: 'event', event: { conversation, sequence, clientMessageId: frame.id, message: frame.message } }));
}

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
server.on('connection', (socket, request) => {
  const [, role, first, second] = (request.url ?? '').split('/');
  const index = Number(first);
  if (role === 'c') {
    const agent = Number(second);
    consumers.set(index, socket);
    socket.on('message', (data) => relay(socket, agents.get(agent), index, JSON.parse(data.toString()) as RelayFrame));
  } else {
    agents.set(index, socket);
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as RelayFrame;
      relay(socket, consumers.get(frame.to ?? -1), frame.to ?? -1, frame);
    });
  }
});
server.on('listening', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`unexpected address ${address}`);
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.on('SIGTERM', () => {
  for (const socket of server.clients) socket.terminate();
  server.close(() => process.exit(0));
});
