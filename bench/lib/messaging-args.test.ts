import { describe, expect, it } from 'vitest';
import { parseMessagingArgs, UsageError } from './messaging-args.ts';

describe('parseMessagingArgs', () => {
  it('defaults to the embedded mode with 1,000 consumers, 100 agents and capacity for them and the burst', () => {
    expect(parseMessagingArgs([])).toMatchObject({
      consumers: 1000,
      agents: 100,
      capacity: 12,
      rate: 20,
      duration: 60,
      burst: 200,
      storage: 'embedded',
      redis: false,
      nodes: 1,
      pin: true,
      server: 'bundle',
      limits: true,
    });
  });

  it('takes a numeric rate or max, and caps the closed loop at the consumers', () => {
    expect(parseMessagingArgs(['--rate', '12.5'])).toMatchObject({ rate: 12.5 });
    expect(parseMessagingArgs(['--rate', 'max', '--consumers', '10', '--agents', '2', '--burst', '0', '--concurrency', '50'])).toMatchObject({ rate: 'max', concurrency: 10, capacity: 5 });
  });

  it('selects cluster mode: --redis implies PostgreSQL, several nodes need Redis', () => {
    expect(parseMessagingArgs(['--postgres'])).toMatchObject({ storage: 'postgres', redis: false });
    expect(parseMessagingArgs(['--redis', '--nodes', '2', '--balancer'])).toMatchObject({ storage: 'postgres', redis: true, nodes: 2, balancer: true });
    expect(() => parseMessagingArgs(['--postgres', '--nodes', '2'])).toThrow(/needs --redis/);
    expect(() => parseMessagingArgs(['--balancer'])).toThrow(/--nodes 2/);
  });

  it('collects --server-env pairs', () => {
    expect(parseMessagingArgs(['--server-env', 'WS_RATE_LIMIT_PER_SECOND=100', '--server-env', 'A=b=c'])).toMatchObject({ serverEnv: { WS_RATE_LIMIT_PER_SECOND: '100', A: 'b=c' } });
    expect(() => parseMessagingArgs(['--server-env', 'novalue'])).toThrow(UsageError);
  });

  it('refuses what it cannot honour, with a usage error', () => {
    expect(() => parseMessagingArgs(['--consumers', '0'])).toThrow(UsageError);
    expect(() => parseMessagingArgs(['--rate', 'fast'])).toThrow(/--rate/);
    expect(() => parseMessagingArgs(['--agents', '5', '--capacity', '10'])).toThrow(/fewer than/);
    expect(() => parseMessagingArgs(['--agents', '5'])).toThrow(/at most 100/);
    expect(() => parseMessagingArgs(['--bogus'])).toThrow(UsageError);
  });

  it('answers --help', () => {
    expect(parseMessagingArgs(['--help'])).toBe('help');
  });
});
