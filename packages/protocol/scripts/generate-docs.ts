import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateDocFiles, REPO_ROOT, staleDocFiles } from './api-docs.ts';

/**
 * Writes the generated API documentation (docs/api/openapi.json, docs/api/asyncapi.json, docs/errors.md,
 * docs/protocol.md). With `--check` it writes nothing and exits 1 when a file on disk is missing or out of date.
 *
 *   npm run docs:generate              # regenerate
 *   npm run docs:generate -- --check   # CI
 */
const check = process.argv.includes('--check');
const files = generateDocFiles();

if (check) {
  const stale = staleDocFiles(files);
  if (stale.length) {
    for (const file of stale) console.error(`${file} is out of date`);
    console.error('The generated API docs differ from the contract: run `npm run docs:generate` and commit the result.');
    process.exit(1);
  }
  console.log(`API docs are up to date (${Object.keys(files).length} files).`);
} else {
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(REPO_ROOT, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
    console.log(`wrote ${file} (${Buffer.byteLength(content)} bytes)`);
  }
}
