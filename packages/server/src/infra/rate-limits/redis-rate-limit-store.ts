import { Redis } from 'ioredis';
import type { Logger } from '../telemetry/logger.ts';
import type { RateLimitStore } from './rate-limit-store.ts';

export interface RedisRateLimitStoreOptions {
  url: string;
  /** Key prefix, so several Parley installations can share one Redis. */
  prefix?: string;
  logger: Logger;
  /** A take that Redis could not answer (down, restarting): the request was let through. */
  onStoreError?(error: unknown): void;
}

/**
 * The token bucket of a key, taken atomically in Redis: its tokens and the time they were counted in a hash, refilled
 * by the time elapsed on Redis's own clock (`TIME`, so nodes' clocks do not matter), one token taken when there is
 * one, else the milliseconds until there is. A bucket whose limit changed starts full at the new size. The hash
 * expires once it would be full again (a minute), so idle keys cost nothing. Returns {wait ms, whole tokens left}.
 */
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local perMs = capacity / 60000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'capacity')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil or tonumber(state[3]) ~= capacity then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * perMs)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / perMs)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now, 'capacity', capacity)
redis.call('PEXPIRE', KEYS[1], 61000)
return { wait, math.floor(tokens) }
`;

type TakeCommand = (key: string, perMinute: number) => Promise<[number, number]>;

/**
 * Limits shared by every node on one Redis (cluster mode): one script call per request, atomic, so two nodes
 * counting the same key see one bucket. When Redis does not answer, the request is let through (and counted in
 * `onStoreError`): a limit protects the service, and refusing every request while Redis restarts would be the outage it
 * protects against. Each node's connection retries on its own.
 */
export async function createRedisRateLimitStore(options: RedisRateLimitStoreOptions): Promise<RateLimitStore> {
  const prefix = `${options.prefix ?? 'parley:'}rate:`;
  const client = new Redis(options.url, {
    lazyConnect: true,
    connectionName: 'parley-rate-limits',
    // A request waits for at most one retry and no offline queue: an answer now or let it through.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2_000),
  });
  client.on('error', (error) => options.logger.warn({ err: error }, 'redis rate-limit connection error'));
  client.defineCommand('parleyTakeToken', { numberOfKeys: 1, lua: TAKE_SCRIPT });
  await client.connect();
  const takeToken = (client as unknown as { parleyTakeToken: TakeCommand }).parleyTakeToken.bind(client);
  return {
    async take(key, perMinute) {
      if (perMinute <= 0) return undefined;
      try {
        const [waitMs, remaining] = await takeToken(prefix + key, perMinute);
        return { waitMs, limit: perMinute, remaining };
      } catch (error) {
        options.onStoreError?.(error);
        return undefined; // not known: let through, and no rate headers that would be guesses
      }
    },
    async close() {
      await client.quit().catch(() => undefined);
      client.disconnect();
    },
  };
}
