/**
 * A bare WebSocket echo server with the library Parley uses (`ws`), no framework and no storage: the ceiling of the
 * protocol on this machine. bench/messaging-load.ts runs it as a child process pinned where the Parley node runs,
 * reads `{"port":…}` from its first line of output, and stops it with SIGTERM.
 */
import { WebSocketServer } from 'ws';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
});
server.on('listening', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`unexpected address ${address}`);
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
