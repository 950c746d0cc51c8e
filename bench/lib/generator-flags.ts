import { spawn } from 'node:child_process';

/**
 * The Node.js flags the load generator runs with. It measures latency as the time from a send to the receipt of the
 * other party's copy, on its own clock, so a pause of the generator is counted as latency of every message in flight.
 *
 * `--single-threaded-gc`: the generator is pinned to one core, where V8's concurrent marker and parallel scavenger
 * threads only take turns with its main thread. An incremental marking step then waited for them in scheduler slices:
 * steps of 16–28 ms in every full collection at 1,000 msg/s, the event loop up to 25–36 ms late, and the slowest
 * window of deliveries inside one of them (docs/performance.md, item 37). On its own, the steps stayed under 5 ms.
 *
 * `--heap-growing-percent=300`: the generator keeps a record of every message of a step (for the correctness gate),
 * so its old generation grows through a step; with this a full collection comes about once a minute instead of every
 * 4–10 s (as for the nodes, scripts/cluster/node-flags.ts).
 *
 * V8 reads them when it starts: `v8.setFlagsFromString('--single-threaded-gc')` later crashes the process at its next
 * full collection. So the generator starts itself again with them (`relaunchWithFlags`).
 */
export const GENERATOR_NODE_FLAGS: readonly string[] = ['--single-threaded-gc', '--heap-growing-percent=300'];

/** The flags this process was not started with. */
export function missingFlags(execArgv: readonly string[], flags: readonly string[]): string[] {
  return flags.filter((flag) => !execArgv.includes(flag));
}

/**
 * Unless this process has `flags` already, runs this same script again (same Node.js, loaders, arguments and
 * environment) with them added, and resolves with its exit code; `undefined` when nothing needs doing. The caller
 * exits with that code and does nothing else. A Ctrl-C in the terminal reaches both processes (one process group),
 * so only the child acts on it and this one waits for the child's clean-up; SIGTERM and SIGHUP are passed on.
 */
export function relaunchWithFlags(flags: readonly string[]): Promise<number> | undefined {
  const missing = missingFlags(process.execArgv, flags);
  if (missing.length === 0) return undefined;
  const child = spawn(process.execPath, [...missing, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  const ignore = () => {};
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', ignore);
  process.on('SIGTERM', forward);
  process.on('SIGHUP', forward);
  return new Promise((resolve) => {
    child.once('error', (error) => {
      process.stderr.write(`could not start the generator again with ${missing.join(' ')}: ${error.message}\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
      resolve(code ?? (signal === 'SIGINT' ? 130 : 1));
    });
  });
}
