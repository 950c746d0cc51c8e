import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingFlags } from './generator-flags.ts';

describe('missingFlags', () => {
  it('names the flags the process was not started with, in the order asked', () => {
    expect(missingFlags(['--import', 'tsx', '--heap-growing-percent=300'], ['--single-threaded-gc', '--heap-growing-percent=300'])).toEqual(['--single-threaded-gc']);
    expect(missingFlags(['--single-threaded-gc'], ['--single-threaded-gc'])).toEqual([]);
  });
});

describe('relaunchWithFlags', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-generator-flags-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  // A script that relaunches itself like the generator, then reports how it runs and exits with its first argument.
  const script = path.join(dir, 'script.mts');
  fs.writeFileSync(
    script,
    [
      `import { relaunchWithFlags } from ${JSON.stringify(path.resolve(import.meta.dirname, 'generator-flags.ts'))};`,
      `const relaunched = relaunchWithFlags(['--single-threaded-gc']);`,
      'if (relaunched) process.exit(await relaunched);',
      'console.log(JSON.stringify({ pid: process.pid, execArgv: process.execArgv, args: process.argv.slice(2), env: process.env.PARLEY_PROBE }));',
      'process.exit(Number(process.argv[2]));',
    ].join('\n'),
  );
  const run = (nodeArgs: string[], args: string[]) =>
    spawnSync(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], { encoding: 'utf8', env: { ...process.env, PARLEY_PROBE: 'kept' }, timeout: 30_000 });

  it('runs the script again with the flag, its loaders, arguments and environment, and exits with its code', () => {
    const result = run([], ['7', 'two words']);
    expect(result.status).toBe(7);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0] as string) as { pid: number; execArgv: string[]; args: string[]; env: string };
    expect(report.pid).not.toBe(result.pid);
    expect(report.execArgv[0]).toBe('--single-threaded-gc');
    expect(report.execArgv).toContain('tsx');
    expect(report.args).toEqual(['7', 'two words']);
    expect(report.env).toBe('kept');
  });

  it('does nothing when the process has the flag already', () => {
    const result = run(['--single-threaded-gc'], ['0']);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout.trim()) as { pid: number; execArgv: string[] };
    expect(report.pid).toBe(result.pid);
    expect(report.execArgv.filter((a) => a === '--single-threaded-gc')).toHaveLength(1);
  });
});
