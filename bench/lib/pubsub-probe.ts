/**
 * Redis pub/sub's own round-trip rate, through the Redis Parley's nodes use, by a child process pinned where the nodes
 * run: one connection publishes 150-byte messages on a channel another connection subscribes to; with 1 message in
 * flight (publish, wait for it to arrive, publish again), then with 100 in flight.
 *
 *   node --import tsx bench/lib/pubsub-probe.ts redis://127.0.0.1:6379
 *
 * Prints one JSON line: { oneInFlight: { perSecond, p50Ms, p99Ms }, hundredInFlight: { … } }.
 */
import { Redis } from 'ioredis';
import { summarize } from './stats.ts';

const SECONDS = Number(process.env.PROBE_SECONDS ?? 3);
const CHANNEL = 'parley-bench-pubsub';
const BODY = 'x'.repeat(150);

interface Round {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

async function main(): Promise<void> {
  const url = process.argv[2] ?? '';
  const subscriber = new Redis(url, { lazyConnect: true });
  const publisher = new Redis(url, { lazyConnect: true });
  await Promise.all([subscriber.connect(), publisher.connect()]);
  await subscriber.subscribe(CHANNEL);
  let onMessage: (sentAt: number) => void = () => {};
  subscriber.on('message', (_channel: string, message: string) => onMessage(Number(message.slice(0, message.indexOf(' ')))));
  const publish = () => void publisher.publish(CHANNEL, `${performance.now()} ${BODY}`);

  const round = (inFlight: number, ms: number): Promise<Round> =>
    new Promise((resolve) => {
      const samples: number[] = [];
      const started = performance.now();
      const end = started + ms;
      let outstanding = 0;
      onMessage = (sentAt) => {
        const now = performance.now();
        samples.push(now - sentAt);
        outstanding -= 1;
        if (now < end) {
          outstanding += 1;
          publish();
        } else if (outstanding === 0) {
          const s = summarize(samples);
          resolve({ perSecond: samples.length / ((now - started) / 1000), p50Ms: s.p50, p99Ms: s.p99 });
        }
      };
      for (let i = 0; i < inFlight; i++) {
        outstanding += 1;
        publish();
      }
    });
  try {
    await round(1, 500); // warm up
    const oneInFlight = await round(1, SECONDS * 1000);
    const hundredInFlight = await round(100, SECONDS * 1000);
    process.stdout.write(`${JSON.stringify({ oneInFlight, hundredInFlight })}\n`);
  } finally {
    subscriber.disconnect();
    publisher.disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`pub/sub probe failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
