import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { AddressPolicy } from '../infra/outbound/address-policy.ts';

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/**
 * The only reader of process.env. Every setting has a default that suits the embedded mode, so `npm start` works
 * with nothing configured; cluster mode is selected by DATABASE_URL.
 */
const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  PUBLIC_URL: z.url().optional(),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: z.string().optional(),
  REDIS_URL: z.string().optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: z.stringbool().default(false),
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional(),
  CREDENTIALS_KEY: z
    .string()
    .min(32, 'CREDENTIALS_KEY must be at least 32 characters')
    .optional()
    .describe("Encrypts channel providers' credentials and webhook and bot signing secrets at rest; without it a random key is kept in the database."),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(30)
    .default(15 * 60),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(30 * 24 * 3600),
  CONSUMER_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(30)
    .default(60 * 60),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(256 * 1024),
  PUBLIC_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(120),
  API_KEY_RATE_LIMIT_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(0)
    .default(600)
    .describe('Requests per minute per API key (and its OAuth tokens) unless the key has its own limit; 0 turns the default off.'),
  MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(10 * 1024 * 1024),
  ALLOWED_UPLOAD_TYPES: z
    .string()
    .default(
      'image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,text/csv,application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    ),
  FILES_DIR: z.string().optional(),
  WS_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  WS_AUTH_DEADLINE_MS: z.coerce.number().int().min(100).default(5_000),
  WS_RATE_LIMIT_PER_SECOND: z.coerce.number().min(1).default(20),
  WS_RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(60),
  WS_MAX_BUFFERED_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
  WS_MAX_FRAME_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(64 * 1024),
  ROUTING_SWEEP_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(1_000)
    .describe('How often timers are checked (ring time-outs, grace periods, auto-close); 0 turns the sweep off (tests drive it).'),
  SEND_BATCH_MIN_INTERVAL_MS: z.coerce
    .number()
    .min(0)
    .max(50)
    .default(0)
    .describe(
      'The least time between the starts of two group commits of messages; under steady load they are then fewer and fuller (less CPU per message, up to this much more latency). 0: back to back.',
    ),
  SEARCH_INDEX_UPKEEP_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(1_000)
    .describe("How often the search index's pending list is moved into the index, off the send path; 0 leaves it to PostgreSQL (a message commit then pays for it)."),
  EMBEDDED_VACUUM_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(30_000)
    .describe(
      "Embedded mode: how often the tables are checked and, where PostgreSQL's autovacuum rules ask for it, vacuumed or analysed (PGlite has no autovacuum). 0: never. Cluster mode leaves this to PostgreSQL.",
    ),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000).describe('How long a webhook receiver has to answer one delivery.'),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).default(30_000).describe('Delay before the first retry of a failed delivery; doubled at each further attempt (at most an hour).'),
  CHANNEL_RETRY_BASE_MS: z.coerce.number().int().min(10).default(5_000).describe('First retry delay of a message a channel provider failed to take (doubling, at most a minute).'),
  CHANNEL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6).describe('Attempts to send a message through a channel before the agent is told it was not delivered.'),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(12).describe('Attempts per delivery before it is marked failed.'),
  WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).default(50).describe('Consecutive failed attempts (any delivery) after which a subscription is disabled...'),
  WEBHOOK_DISABLE_MIN_FAILING_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(3_600_000)
    .describe('...provided it has been failing for at least this long (a short outage of a busy receiver does not disable it).'),
  OUTBOUND_ALLOWED_NETWORKS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const networks = splitList(value);
      try {
        new AddressPolicy(networks);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
        return z.NEVER;
      }
      return networks;
    })
    .describe(
      "Comma-separated networks (CIDRs or addresses) that tenants' webhooks, bots, connector endpoints, channel API base URLs and consumer-auth JWKS URLs may reach although they are not public, e.g. 10.20.0.0/16 for bots on the private network or 127.0.0.0/8 for a bot on this machine. Empty: public addresses only (the cloud metadata service, loopback and private networks are refused).",
    ),
  NODE_ID: z.string().min(1).max(100).optional(),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  BOOTSTRAP_ACCOUNT_NAME: z.string().default('My brand'),
  BOOTSTRAP_ADMIN_EMAIL: z.email().default('admin@parley.local'),
  BOOTSTRAP_ADMIN_PASSWORD: z.string().min(10).optional(),
});

export interface Config {
  http: { port: number; host: string; publicUrl: string | undefined; maxBodyBytes: number; publicRatePerMinute: number; apiKeyRatePerMinute: number };
  storage: { mode: 'embedded'; dataDir: string; filesDir: string } | { mode: 'postgres'; databaseUrl: string; poolSize: number; filesDir: string };
  log: { level: z.infer<typeof EnvSchema>['LOG_LEVEL']; pretty: boolean };
  auth: { jwtSecret: string | undefined; credentialsKey: string | undefined; accessTokenTtlSeconds: number; refreshTokenTtlSeconds: number; consumerTokenTtlSeconds: number };
  uploads: { maxBytes: number; allowedTypes: readonly string[] };
  realtime: { heartbeatIntervalMs: number; authDeadlineMs: number; ratePerSecond: number; rateBurst: number; maxBufferedBytes: number; maxFrameBytes: number };
  routing: { sweepIntervalMs: number; nodeId: string };
  search: { indexUpkeepIntervalMs: number };
  /** Embedded mode's stand-in for autovacuum (infra/db/embedded-vacuum.ts); 0: off. */
  embeddedVacuumIntervalMs: number;
  messaging: { minBatchIntervalMs: number };
  channels: { retryBaseMs: number; maxAttempts: number };
  /** What Parley may call on a tenant's behalf (infra/outbound/address-policy.ts). */
  outbound: { allowedNetworks: readonly string[] };
  webhooks: { timeoutMs: number; retryBaseMs: number; maxAttempts: number; disableAfterFailures: number; disableMinFailingMs: number };
  bus: { mode: 'in-process' } | { mode: 'redis'; url: string };
  shutdownGraceMs: number;
  bootstrap: { accountName: string; adminEmail: string; adminPassword: string | undefined };
}

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const filesDir = path.resolve(e.FILES_DIR ?? path.join(dataDir, 'files'));
  return {
    http: {
      port: e.PORT,
      host: e.HOST,
      publicUrl: e.PUBLIC_URL,
      maxBodyBytes: e.MAX_BODY_BYTES,
      publicRatePerMinute: e.PUBLIC_RATE_LIMIT_PER_MINUTE,
      apiKeyRatePerMinute: e.API_KEY_RATE_LIMIT_PER_MINUTE,
    },
    storage: e.DATABASE_URL ? { mode: 'postgres', databaseUrl: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE, filesDir } : { mode: 'embedded', dataDir, filesDir },
    log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY },
    auth: {
      jwtSecret: e.JWT_SECRET,
      credentialsKey: e.CREDENTIALS_KEY,
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
      consumerTokenTtlSeconds: e.CONSUMER_TOKEN_TTL_SECONDS,
    },
    uploads: {
      maxBytes: e.MAX_UPLOAD_BYTES,
      allowedTypes: splitList(e.ALLOWED_UPLOAD_TYPES),
    },
    realtime: {
      heartbeatIntervalMs: e.WS_HEARTBEAT_INTERVAL_MS,
      authDeadlineMs: e.WS_AUTH_DEADLINE_MS,
      ratePerSecond: e.WS_RATE_LIMIT_PER_SECOND,
      rateBurst: e.WS_RATE_LIMIT_BURST,
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      maxFrameBytes: e.WS_MAX_FRAME_BYTES,
    },
    routing: { sweepIntervalMs: e.ROUTING_SWEEP_INTERVAL_MS, nodeId: e.NODE_ID ?? `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}` },
    search: { indexUpkeepIntervalMs: e.SEARCH_INDEX_UPKEEP_INTERVAL_MS },
    embeddedVacuumIntervalMs: e.EMBEDDED_VACUUM_INTERVAL_MS,
    messaging: { minBatchIntervalMs: e.SEND_BATCH_MIN_INTERVAL_MS },
    channels: { retryBaseMs: e.CHANNEL_RETRY_BASE_MS, maxAttempts: e.CHANNEL_MAX_ATTEMPTS },
    outbound: { allowedNetworks: e.OUTBOUND_ALLOWED_NETWORKS },
    webhooks: {
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      disableAfterFailures: e.WEBHOOK_DISABLE_AFTER_FAILURES,
      disableMinFailingMs: e.WEBHOOK_DISABLE_MIN_FAILING_MS,
    },
    bus: e.REDIS_URL ? { mode: 'redis', url: e.REDIS_URL } : { mode: 'in-process' },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    bootstrap: { accountName: e.BOOTSTRAP_ACCOUNT_NAME, adminEmail: e.BOOTSTRAP_ADMIN_EMAIL, adminPassword: e.BOOTSTRAP_ADMIN_PASSWORD },
  };
}
