import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Config, loadConfig } from '../config/config.ts';
import type { Clock } from '../core/clock.ts';
import { createLogger } from '../infra/telemetry/logger.ts';
import { createServer, type ParleyServer } from '../server.ts';
import { createTestDatabase } from './test-database.ts';

export const ADMIN_PASSWORD = 'admin-password-for-tests';

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private current = new Date()) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export interface TestServer {
  server: ParleyServer;
  config: Config;
  /** http://127.0.0.1:port once `listen: true`. */
  baseUrl: string;
  accountId: string;
  widgetKey: string;
  adminEmail: string;
  close(): Promise<void>;
}

/**
 * A real Parley server on a fresh database (embedded or PostgreSQL, as the suite runs). With `listen: false` it is
 * driven through `server.app.inject()`.
 */
export interface TestServerOptions {
  listen?: boolean;
  env?: Record<string, string>;
  clock?: Clock;
  logLevel?: string;
  /** PostgreSQL's pool size (embedded mode has one session whatever this says). */
  poolSize?: number;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const filesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-files-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    FILES_DIR: filesDir,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
    BOOTSTRAP_ADMIN_EMAIL: `admin-${Math.random().toString(36).slice(2, 10)}@parley.test`,
    LOG_LEVEL: options.logLevel ?? process.env.PARLEY_TEST_LOG_LEVEL ?? 'silent',
    // Tests drive routing's timers themselves (services.routing.sweep()) unless they ask for the interval.
    ROUTING_SWEEP_INTERVAL_MS: '0',
    // Likewise the search index's upkeep (services.searchIndexUpkeep.movePending()).
    SEARCH_INDEX_UPKEEP_INTERVAL_MS: '0',
    // And embedded mode's vacuum (infra/db/embedded-vacuum.ts, run by its own test).
    EMBEDDED_VACUUM_INTERVAL_MS: '0',
    // Tests' bots, webhook receivers and provider simulators listen on loopback; the refusal has its own tests.
    OUTBOUND_ALLOWED_NETWORKS: '127.0.0.0/8,::1',
    // Suites create many sessions from one address; the limit has its own test.
    PUBLIC_RATE_LIMIT_PER_MINUTE: '0',
    API_KEY_RATE_LIMIT_PER_MINUTE: '0',
    ...options.env,
  });
  const db = await createTestDatabase();
  const databaseOptions = options.poolSize && db.options.mode === 'postgres' ? { ...db.options, poolSize: options.poolSize } : db.options;
  const server = await createServer(config, { databaseOptions, logger: createLogger({ level: config.log.level as 'silent' }), ...(options.clock ? { clock: options.clock } : {}) });
  const bootstrap = server.bootstrap;
  if (!bootstrap) throw new Error('test server did not bootstrap an account');
  const baseUrl = options.listen ? await server.listen() : 'http://localhost';
  return {
    server,
    config,
    baseUrl,
    accountId: bootstrap.accountId,
    widgetKey: bootstrap.widgetKey,
    adminEmail: bootstrap.adminEmail,
    async close() {
      await server.close();
      await db.drop();
      fs.rmSync(filesDir, { recursive: true, force: true });
    },
  };
}
