/**
 * Preloaded into a benchmark's nodes with `--alloc-profile DIR` (`node --import <bundle of this file>`): V8's sampling
 * heap profiler, keeping the samples of objects already collected, so the profile shows what a node *allocated* in a
 * window (what its garbage collector has to deal with), not what is still alive at its end.
 *
 * With `PARLEY_ALLOC_PROFILE_PROMOTED=1` only what survived the young generation (below).
 *
 * The generator marks the window: the first SIGUSR2 starts sampling, the next one stops it and writes
 * `<dir>/<label>-<pid>-<n>.heapprofile` (open it in Chrome DevTools' Memory tab) and `<...>.txt`, the sites that
 * allocated most, by function and by the code they were called from.
 */
import { writeFileSync } from 'node:fs';
import type { HeapProfiler } from 'node:inspector';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
export interface SamplingNode {
  callFrame: CallFrame;
  selfSize: number;
  children: SamplingNode[];
}
export interface SamplingProfile {
  head: SamplingNode;
}

const dir = process.env.PARLEY_ALLOC_PROFILE_DIR;
const label = process.env.PARLEY_ALLOC_PROFILE_LABEL ?? 'node';
/**
 * `PARLEY_ALLOC_PROFILE_PROMOTED=1` (`--alloc-profile-promoted`): leave out the objects a scavenge collected, so the
 * profile shows what outlived the young generation (promoted, or still young at the window's end): what makes a
 * scavenge long, since it copies every survivor.
 */
const promotedOnly = process.env.PARLEY_ALLOC_PROFILE_PROMOTED === '1';
/** Bytes between samples: V8's default is 32 kB; smaller sees more sites at more cost. */
const SAMPLING_INTERVAL = 4096;

type Gc = (options: { type: 'minor'; execution: 'sync' }) => void;
let gc: Gc | undefined;

/** A young-generation collection now (V8's `gc`, exposed for this process only when the sampler is asked for). */
function scavenge(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as Gc;
  }
  gc({ type: 'minor', execution: 'sync' });
}

if (dir !== undefined) {
  const session = new Session();
  session.connect();
  let sampling = false;
  let count = 0;
  let startedAt = 0;
  let busy = Promise.resolve();
  process.on('SIGUSR2', () => {
    busy = busy.then(async () => {
      if (!sampling) {
        await session.post('HeapProfiler.enable');
        // The two include flags exist since V8 11 (Node 20); without them a sample is dropped when its object dies.
        const params: HeapProfiler.StartSamplingParameterType & { includeObjectsCollectedByMajorGC: boolean; includeObjectsCollectedByMinorGC: boolean } = {
          samplingInterval: SAMPLING_INTERVAL,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: !promotedOnly,
        };
        await session.post('HeapProfiler.startSampling', params);
        sampling = true;
        startedAt = Date.now();
        return;
      }
      // What is still young at the window's end has outlived nothing yet: a scavenge first, so it counts as collected.
      if (promotedOnly) scavenge();
      const { profile } = await session.post('HeapProfiler.stopSampling');
      sampling = false;
      count += 1;
      const base = path.join(dir, `${label}-${process.pid}-${count}`);
      writeFileSync(`${base}.heapprofile`, JSON.stringify(profile));
      writeFileSync(`${base}.txt`, summarise(profile, Date.now() - startedAt, promotedOnly ? 'allocated and not collected by a scavenge' : 'allocated'));
    });
  });
}

function frameName(frame: CallFrame): string {
  const file = frame.url === '' ? '(native)' : frame.url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '');
  return `${frame.functionName || '(anonymous)'} ${path.basename(path.dirname(file))}/${path.basename(file)}:${frame.lineNumber + 1}`;
}

/** The top sites by bytes allocated in the function itself, and by the first frame of Parley's own code above them. */
export function summarise(profile: SamplingProfile, ms: number, what = 'allocated'): string {
  const self = new Map<string, number>();
  const ownCaller = new Map<string, number>();
  let total = 0;
  const walk = (node: SamplingNode, stack: CallFrame[]): void => {
    const here = [...stack, node.callFrame];
    if (node.selfSize > 0) {
      total += node.selfSize;
      const name = frameName(node.callFrame);
      self.set(name, (self.get(name) ?? 0) + node.selfSize);
      const own = [...here].reverse().find((frame) => frame.url.includes('main.mjs') || frame.url.includes('/packages/'));
      const ownName = own === undefined ? '(no Parley frame)' : frameName(own);
      ownCaller.set(ownName, (ownCaller.get(ownName) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, here);
  };
  walk(profile.head, []);
  const table = (map: Map<string, number>): string =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 40)
      .map(([name, bytes]) => `${(bytes / 1e6).toFixed(1).padStart(9)} MB ${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n');
  return [
    `${what} (sampled estimate): ${(total / 1e6).toFixed(1)} MB in ${(ms / 1000).toFixed(1)} s`,
    '',
    'by function (self):',
    table(self),
    '',
    "by the nearest frame of Parley's own code:",
    table(ownCaller),
    '',
  ].join('\n');
}
