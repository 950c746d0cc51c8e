import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';

const run = promisify(execFile);

/**
 * What V8's scavenges promoted to the old generation while `body` ran in a fresh Node.js process (ESM, TypeScript
 * through tsx; `import`s resolve from this folder), with the young generation the nodes run with
 * (`--max-semi-space-size=64`). Objects that die young are not promoted; a hot path whose short-lived objects are
 * promoted anyway makes every scavenge long and brings full collections closer (docs/performance.md, items 28–31).
 */
export async function promotedMegabytes(body: string): Promise<{ promotedMB: number; scavenges: number }> {
  // Beside this file, so the body's relative imports resolve; ignored by git (.gitignore) and removed afterwards.
  const script = path.join(import.meta.dirname, `.promotion-${randomUUID()}.ts`);
  try {
    fs.writeFileSync(script, body);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--max-semi-space-size=64', '--trace-gc-nvp', script], {
      cwd: import.meta.dirname,
      maxBuffer: 64 * 1024 * 1024,
    });
    let promoted = 0;
    let scavenges = 0;
    for (const line of stdout.split('\n')) {
      if (!/\bgc=s\b/.test(line)) continue;
      scavenges += 1;
      promoted += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? 0);
    }
    return { promotedMB: promoted / 2 ** 20, scavenges };
  } finally {
    fs.rmSync(script, { force: true });
  }
}

/** Asserts that `body` (a loop over a hot path's builders) ran through scavenges and had next to nothing promoted. */
export async function expectDiesYoung(body: string, limitMB = 20): Promise<void> {
  const { promotedMB, scavenges } = await promotedMegabytes(body);
  expect(scavenges).toBeGreaterThan(0);
  expect(promotedMB).toBeLessThan(limitMB);
}
