import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const consoleDir = path.resolve(import.meta.dirname, '..');
export const CONSOLE_DIST = path.join(consoleDir, 'dist');

/** Everything the bundle is made from: the console's own files and the workspace packages it bundles. */
const SOURCES = [
  path.join(consoleDir, 'src'),
  path.join(consoleDir, 'public'),
  path.join(consoleDir, 'index.html'),
  path.join(consoleDir, 'vite.config.ts'),
  path.resolve(consoleDir, '../protocol/src'),
  path.resolve(consoleDir, '../sdk/src'),
];

function newestMtime(target: string): number {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(target, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    // Tests are not part of the bundle; editing one must not cost a rebuild.
    if (entry.isFile() && /\.test\.tsx?$/.test(entry.name)) continue;
    newest = Math.max(newest, newestMtime(path.join(target, entry.name)));
  }
  return newest;
}

/** Whether dist is missing or older than a source file. */
export function consoleBuildIsStale(): boolean {
  const built = fs.statSync(path.join(CONSOLE_DIST, 'index.html'), { throwIfNoEntry: false });
  if (!built) return true;
  return SOURCES.some((source) => newestMtime(source) > built.mtimeMs);
}

/**
 * Builds the console when it is missing or stale (the browser tests need it; a build takes about 1.5 s). The build
 * goes to a temporary folder that then replaces dist, so a server running meanwhile never serves half a build.
 */
export function ensureConsoleBuilt(log: (line: string) => void = () => {}): boolean {
  if (!consoleBuildIsStale()) return false;
  const tmp = path.join(consoleDir, `.dist-${process.pid}`);
  const vite = path.join(path.dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin/vite.js');
  const started = Date.now();
  const result = spawnSync(process.execPath, [vite, 'build', '--outDir', tmp, '--emptyOutDir', '--logLevel', 'warn'], { cwd: consoleDir, encoding: 'utf8' });
  if (result.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`building the console failed:\n${result.stdout}\n${result.stderr}`);
  }
  fs.rmSync(CONSOLE_DIST, { recursive: true, force: true });
  fs.renameSync(tmp, CONSOLE_DIST);
  log(`console: built in ${Date.now() - started} ms`);
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  ensureConsoleBuilt((line) => console.log(line));
}
