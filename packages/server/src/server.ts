import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.ts';
import { type Clock, systemClock } from './core/clock.ts';
import { createInProcessBus } from './infra/bus/in-process-bus.ts';
import { createRedisBus } from './infra/bus/redis-bus.ts';
import type { EventBus } from './infra/bus/event-bus.ts';
import { type Database, type DatabaseOptions, openDatabase } from './infra/db/database.ts';
import { createMemoryRateLimitStore } from './infra/rate-limits/memory-rate-limit-store.ts';
import type { RateLimitStore } from './infra/rate-limits/rate-limit-store.ts';
import { createRedisRateLimitStore } from './infra/rate-limits/redis-rate-limit-store.ts';
import { EmbeddedVacuum } from './infra/db/embedded-vacuum.ts';
import { createLogger, type Logger } from './infra/telemetry/logger.ts';
import { createMetrics, type Metrics } from './infra/telemetry/metrics.ts';
import { type BootstrapResult, bootstrapFirstAccount } from './modules/accounts/index.ts';
import { createServices, type Services } from './services.ts';
import { createHttpApp } from './transports/http/http-app.ts';
import { RealtimeGateway } from './transports/realtime/gateway.ts';

export interface ParleyServer {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly database: Database;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Set when this start created the first account (first start on an empty database). */
  readonly bootstrap: BootstrapResult | undefined;
  listen(): Promise<string>;
  /** Graceful: stop accepting, tell sockets to go away, finish requests, close the database. Idempotent. */
  close(): Promise<void>;
}

export interface ServerOverrides {
  clock?: Clock;
  logger?: Logger;
  /** Tests pass an in-memory database cloned from a migrated template. */
  databaseOptions?: DatabaseOptions;
  bus?: EventBus;
  /** Skip creating the first account on an empty database. */
  skipBootstrap?: boolean;
}

/** The composition root: the only place where configuration, storage, the bus, services and transports meet. */
export async function createServer(config: Config, overrides: ServerOverrides = {}): Promise<ParleyServer> {
  const logger = overrides.logger ?? createLogger({ level: config.log.level });
  const clock = overrides.clock ?? systemClock;
  const metrics = createMetrics();
  const databaseOptions: DatabaseOptions =
    overrides.databaseOptions ??
    (config.storage.mode === 'postgres' ? { mode: 'postgres', databaseUrl: config.storage.databaseUrl, poolSize: config.storage.poolSize } : { mode: 'embedded', dataDir: config.storage.dataDir });
  const database = await openDatabase(databaseOptions, logger.child({ module: 'db' }));
  const onHandlerError = (error: unknown, topic: string) => logger.error({ err: error, topic }, 'bus handler failed');
  let bus: EventBus;
  try {
    bus =
      overrides.bus ??
      (config.bus.mode === 'redis'
        ? await createRedisBus({ url: config.bus.url, logger: logger.child({ module: 'bus' }), onHandlerError, onPublishError: () => metrics.busPublishFailures.inc() })
        : createInProcessBus(onHandlerError));
  } catch (error) {
    await database.close();
    throw error;
  }
  // Request limits count with the bus: in this process alone, or in the Redis the nodes share.
  let rateLimits: RateLimitStore;
  try {
    rateLimits =
      config.bus.mode === 'redis'
        ? await createRedisRateLimitStore({
            url: config.bus.url,
            logger: logger.child({ module: 'rate-limits' }),
            onStoreError: (error) => {
              metrics.rateLimitStoreErrors.inc();
              logger.warn({ err: error }, 'rate-limit store did not answer: request let through');
            },
          })
        : createMemoryRateLimitStore();
  } catch (error) {
    await bus.close();
    await database.close();
    throw error;
  }

  let app: FastifyInstance;
  // Where this node answers, for URLs providers call back when PUBLIC_URL is not set (a single node on its own).
  let listeningUrl = `http://${config.http.host}:${config.http.port}`;
  let services: Services;
  let bootstrap: BootstrapResult | undefined;
  const lifecycle = { draining: false };
  // What this start opened is closed again when a later step fails (a test or an embedding process lives on).
  let created: Services | undefined;
  try {
    services = await createServices({ db: database.db, bus, config, clock, logger, metrics, publicUrl: () => config.http.publicUrl?.replace(/\/+$/, '') ?? listeningUrl });
    created = services;
    if (!overrides.skipBootstrap && (await services.accounts.count()) === 0) {
      bootstrap = await bootstrapFirstAccount(database.db, { accountName: config.bootstrap.accountName, adminEmail: config.bootstrap.adminEmail, adminPassword: config.bootstrap.adminPassword });
    }
    if (bootstrap) {
      logger.info({ accountId: bootstrap.accountId, adminEmail: bootstrap.adminEmail }, 'first start: created the first account and admin');
    }
    app = await createHttpApp(
      { services, database, metrics, lifecycle, bus, rateLimits },
      {
        logger,
        maxBodyBytes: config.http.maxBodyBytes,
        publicRatePerMinute: config.http.publicRatePerMinute,
        apiKeyRatePerMinute: config.http.apiKeyRatePerMinute,
        maxUploadBytes: config.uploads.maxBytes,
        maxWsFrameBytes: config.realtime.maxFrameBytes,
        publicUrl: config.http.publicUrl,
      },
    );
  } catch (error) {
    await created?.outbound.close();
    await rateLimits.close();
    await bus.close();
    await database.close();
    throw error;
  }
  const gateway = new RealtimeGateway(services, bus, config.realtime, metrics, logger.child({ module: 'realtime' }));
  gateway.register(app);

  // Routing's timers (ring time-outs, grace periods, response targets, auto-close) and a safety-net pass over
  // accounts with waiting conversations. Every node runs them; the database makes each change happen once.
  let sweeping = false;
  const sweep =
    config.routing.sweepIntervalMs > 0
      ? setInterval(() => {
          if (sweeping) return;
          sweeping = true;
          services.routing
            .sweep()
            .then(() => services.botRuntime.sweep())
            .then(() => services.routing.routeAllWaiting())
            .catch((error: unknown) => logger.error({ err: error }, 'routing sweep failed'))
            .finally(() => {
              sweeping = false;
            });
        }, config.routing.sweepIntervalMs)
      : undefined;
  sweep?.unref();
  // The analytics rollup folds complete hours: asking every five minutes keeps it at most one hour and a few minutes behind.
  const rollUp =
    config.routing.sweepIntervalMs > 0
      ? setInterval(() => {
          services.analytics.scheduleRollUp().catch((error: unknown) => logger.error({ err: error }, 'scheduling the analytics rollup failed'));
        }, 300_000)
      : undefined;
  rollUp?.unref();
  services.jobs.start();
  services.searchIndexUpkeep.start(config.search.indexUpkeepIntervalMs);
  // PGlite has no autovacuum; PostgreSQL's own does this in cluster mode.
  const embeddedVacuum = database.mode === 'embedded' ? new EmbeddedVacuum(database.db, metrics, logger) : undefined;
  embeddedVacuum?.start(config.embeddedVacuumIntervalMs);

  let closing: Promise<void> | undefined;
  return {
    app,
    services,
    database,
    metrics,
    logger,
    bootstrap,
    async listen() {
      listeningUrl = await app.listen({ port: config.http.port, host: config.http.host });
      return listeningUrl;
    },
    close() {
      closing ??= (async () => {
        lifecycle.draining = true;
        logger.info({ connections: gateway.size }, 'shutting down: draining connections');
        if (sweep) clearInterval(sweep);
        if (rollUp) clearInterval(rollUp);
        await services.jobs.stop();
        await services.searchIndexUpkeep.stop();
        await embeddedVacuum?.stop();
        await gateway.drain();
        // Requests in flight get half the grace period; then every connection still open is cut, including sockets
        // that never sent a request (a browser's preconnect), which Node would otherwise keep for its 60 s headers
        // time-out and so hold the shutdown past the grace period.
        const cut = setTimeout(() => {
          logger.warn('connections still open after half the shutdown grace period: closing them');
          app.server.closeAllConnections();
        }, config.shutdownGraceMs / 2);
        await app.close();
        clearTimeout(cut);
        await services.routing.settle();
        await services.outbound.close();
        await rateLimits.close();
        await bus.close();
        await database.close();
        logger.info('shutdown complete');
      })();
      return closing;
    },
  };
}
