import { ConfigError, loadConfig } from './config/config.ts';
import { DataDirLockedError } from './infra/db/data-dir-lock.ts';
import { createLogger } from './infra/telemetry/logger.ts';
import { createServer } from './server.ts';

/** Process entry: configuration from the environment, signals, and the one-time first-start notice. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.log.level });
  const server = await createServer(config, { logger });
  const address = await server.listen();
  if (server.bootstrap) {
    const b = server.bootstrap;
    const lines = [
      'Parley is set up. Keep these; the password is shown only once.',
      `  account:     ${b.accountName} (${b.accountId})`,
      `  widget key:  ${b.widgetKey}`,
      `  admin login: ${b.adminEmail}`,
      b.generatedPassword ? `  password:    ${b.generatedPassword}` : '  password:    (as set in BOOTSTRAP_ADMIN_PASSWORD)',
    ];
    process.stdout.write(`\n${lines.join('\n')}\n\n`);
  }
  logger.info({ address, storage: config.storage.mode }, 'Parley is listening');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const force = setTimeout(() => {
      logger.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DataDirLockedError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`Parley failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
