import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestServer } from './test/test-server.ts';

describe('graceful shutdown', () => {
  it('finishes within the grace period even when a client opened a connection and never sent a request', async () => {
    const t = await startTestServer({ listen: true, env: { SHUTDOWN_GRACE_MS: '2000' } });
    const { port } = new URL(t.baseUrl);
    // Like a browser's speculative preconnect: a TCP connection that never sends a request.
    const idle = net.connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      idle.once('connect', () => resolve());
      idle.once('error', reject);
    });
    idle.on('error', () => {});
    const closed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    const started = performance.now();
    await t.close();
    expect(performance.now() - started).toBeLessThan(5_000);
    await closed;
  });
});
