import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import { protocolRuntimeSource } from './protocol-runtime.ts';

/** The gzipped size the widget must stay under (without co-browse): issue 3. */
export const GZIP_BUDGET_BYTES = 50 * 1024;

const packageDir = path.resolve(import.meta.dirname, '..');
export const WIDGET_ENTRY = path.join(packageDir, 'src/embed.ts');
export const WIDGET_OUTFILE = path.join(packageDir, 'dist/widget.js');

export interface WidgetBuildResult {
  outfile: string;
  rawBytes: number;
  gzipBytes: number;
}

/** Resolves `@parley/protocol` to the generated zod-free module, and refuses zod outright. */
function protocolWithoutZod(): Plugin {
  return {
    name: 'parley-protocol-runtime',
    setup(b) {
      b.onResolve({ filter: /^@parley\/protocol$/ }, () => ({ path: 'protocol-runtime.js', namespace: 'parley-protocol' }));
      b.onLoad({ filter: /.*/, namespace: 'parley-protocol' }, () => ({ contents: protocolRuntimeSource(), loader: 'js', resolveDir: packageDir }));
      b.onResolve({ filter: /^zod(\/.*)?$/ }, (args) => ({ errors: [{ text: `zod must not reach the widget bundle (imported by ${args.importer})` }] }));
    },
  };
}

const kB = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

/**
 * Bundles the widget into one minified IIFE (`dist/widget.js`), prints its raw and gzipped size, and fails when the
 * gzipped size is over the budget. Fast (esbuild): the test suite's global setup calls it once per run.
 */
export async function buildWidget(options: { outfile?: string; log?: (line: string) => void } = {}): Promise<WidgetBuildResult> {
  const outfile = options.outfile ?? WIDGET_OUTFILE;
  const result = await build({
    entryPoints: [WIDGET_ENTRY],
    bundle: true,
    minify: true,
    format: 'iife',
    // The SDK needs crypto.randomUUID and Object.hasOwn: Chrome 93, Firefox 95, Safari 15.4.
    target: ['es2020', 'chrome93', 'firefox95', 'safari15.4'],
    platform: 'browser',
    legalComments: 'none',
    charset: 'utf8',
    write: false,
    logLevel: 'silent',
    plugins: [protocolWithoutZod()],
  });
  const code = result.outputFiles[0]?.contents;
  if (!code) throw new Error('esbuild produced no output');
  const gzipBytes = gzipSync(code, { level: 9 }).length;
  const line = `widget: ${path.relative(process.cwd(), outfile)}  ${kB(code.length)} raw, ${kB(gzipBytes)} gzipped (budget ${kB(GZIP_BUDGET_BYTES)} gzipped)`;
  if (gzipBytes > GZIP_BUDGET_BYTES) throw new Error(`${line}: OVER BUDGET by ${kB(gzipBytes - GZIP_BUDGET_BYTES)}`);
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  // Written to a temporary file and renamed, so a server never reads half a bundle.
  const temporary = `${outfile}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, code);
  fs.renameSync(temporary, outfile);
  (options.log ?? console.log)(line);
  return { outfile, rawBytes: code.length, gzipBytes };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  buildWidget().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
