import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { dumpMigratedTemplate } from '../infra/db/database.ts';
import { allMigrations } from '../infra/db/migrations.ts';
import { createLogger } from '../infra/telemetry/logger.ts';
import { buildWidget } from '../../../widget/scripts/build.ts';
import { ensureConsoleBuilt } from '../../../console/scripts/ensure-built.ts';

/**
 * Migrates one in-memory PGlite database and dumps it to a file that every test clones (0.4 s instead of a fresh
 * initdb and migration per test). In PostgreSQL mode (PARLEY_TEST_DATABASE_URL) tests create databases instead.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const key = Object.keys(allMigrations).join(',').length.toString(36) + Object.keys(allMigrations).length;
  const file = path.join(os.tmpdir(), `parley-template-${process.pid}-${key}.tar.gz`);
  // The server serves packages/widget/dist/widget.js; browser tests need it built (esbuild: well under a second).
  await buildWidget();
  // The server serves packages/console/dist under /console/; rebuilt only when missing or older than its sources (~1.5 s).
  ensureConsoleBuilt();
  if (!process.env.PARLEY_TEST_DATABASE_URL) {
    const blob = await dumpMigratedTemplate(createLogger({ level: 'silent' }));
    fs.writeFileSync(file, Buffer.from(await blob.arrayBuffer()));
  }
  project.provide('pgliteTemplatePath', file);
  return () => {
    fs.rmSync(file, { force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplatePath: string;
  }
}
