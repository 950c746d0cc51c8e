import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config/config.ts';
import { createInProcessBus } from './infra/bus/in-process-bus.ts';
import type { EventBus } from './infra/bus/event-bus.ts';
import { createLogger, type Logger } from './infra/telemetry/logger.ts';
import { createServer } from './server.ts';
import { createTestDatabase, storageMode } from './test/test-database.ts';

describe(`starting a server (${storageMode})`, () => {
  it('closes the bus and the database it opened when a later step of the start fails', async () => {
    const filesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-files-'));
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', FILES_DIR: filesDir, LOG_LEVEL: 'silent', ROUTING_SWEEP_INTERVAL_MS: '0' });
    const database = await createTestDatabase();
    const inProcess = createInProcessBus(() => {});
    let busClosed = false;
    const bus: EventBus = {
      ...inProcess,
      async close() {
        busClosed = true;
        await inProcess.close();
      },
    };
    // A step inside createServices fails (here: the webhooks module cannot get its logger).
    const base = createLogger({ level: 'silent' });
    const logger = new Proxy(base, {
      get(target, property, receiver) {
        if (property !== 'child') return Reflect.get(target, property, receiver);
        return (bindings: Record<string, unknown>) => {
          if (bindings.module === 'webhooks') throw new Error('no logger for the webhooks');
          return target.child(bindings);
        };
      },
    }) as Logger;
    try {
      await expect(createServer(config, { databaseOptions: database.options, bus, logger })).rejects.toThrow('no logger for the webhooks');
      expect(busClosed).toBe(true);
      if (database.url) {
        // The node's pool is closed: no connection of it is left on the database.
        const admin = new pg.Client({ connectionString: process.env.PARLEY_TEST_DATABASE_URL });
        await admin.connect();
        const name = new URL(database.url).pathname.slice(1);
        const { rows } = await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
        await admin.end();
        expect(rows[0]?.n).toBe(0);
      }
    } finally {
      await database.drop();
      fs.rmSync(filesDir, { recursive: true, force: true });
    }
  });
});
