/**
 * scripts/cluster/balancer.ts as a process of its own, so that with `--nodes N --balancer` the proxy hop runs on the
 * server's core rather than in the load generator. Argument: the backends as JSON `[{ name, host, port }]`. Prints
 * `{"port":…}` once it listens; SIGTERM stops it.
 */
import { type Backend, startBalancer } from '../../scripts/cluster/balancer.ts';

async function main(): Promise<void> {
  const backends = JSON.parse(process.argv[2] ?? '[]') as Backend[];
  const balancer = await startBalancer({ backends, host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ port: balancer.port })}\n`);
  process.on('SIGTERM', () => void balancer.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`balancer failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
