import { describe, expect, it } from 'vitest';
import { DEFAULT_STEPS, MESSAGING_OPTIONS, MESSAGING_USAGE, parseMessagingArgs, parseSteps, UsageError } from './messaging-args.ts';

describe('parseMessagingArgs', () => {
  it("defaults to the issue's workload: 2,000 consumers, 200 agents with 10 places, the ladder of steps then the ceiling", () => {
    expect(parseMessagingArgs([])).toMatchObject({
      consumers: 2000,
      agents: 200,
      capacity: 10,
      messaging: { kind: 'ladder', steps: DEFAULT_STEPS, ceilingSeconds: 30 },
      duration: 30,
      warmup: 2,
      stopP99Ms: 500,
      supervise: 0.1,
      burst: 0,
      idle: 0,
      storage: 'embedded',
      redis: false,
      nodes: 1,
      pin: true,
      server: 'bundle',
      limits: true,
    });
    expect(DEFAULT_STEPS).toEqual([500, 1000, 2000, 5000, 10000, 20000]);
  });

  it('takes the steps, their duration and the ceiling; the ceiling defaults to the step duration and 0 skips it', () => {
    expect(parseMessagingArgs(['--steps', '100,200', '--step-duration', '5'])).toMatchObject({
      messaging: { kind: 'ladder', steps: [100, 200], ceilingSeconds: 5 },
      duration: 5,
      warmup: 2,
    });
    expect(parseMessagingArgs(['--steps', '1k,2k', '--ceiling', '0'])).toMatchObject({ messaging: { kind: 'ladder', steps: [1000, 2000], ceilingSeconds: 0 } });
    expect(parseMessagingArgs(['--stop-p99', '250', '--supervise', '0.5'])).toMatchObject({ stopP99Ms: 250, supervise: 0.5 });
  });

  it('passes Node.js options to the nodes and asks them for allocation profiles, promoted objects only if told', () => {
    expect(parseMessagingArgs(['--node-option=--trace-gc', '--node-option=--single-threaded-gc'])).toMatchObject({ nodeOptions: ['--trace-gc', '--single-threaded-gc'] });
    expect(parseMessagingArgs([])).toMatchObject({ nodeOptions: [], allocProfile: undefined, allocProfilePromoted: false });
    expect(parseMessagingArgs(['--alloc-profile', '.tmp/a'])).toMatchObject({ allocProfile: '.tmp/a', allocProfilePromoted: false });
    expect(parseMessagingArgs(['--alloc-profile', '.tmp/a', '--alloc-profile-promoted'])).toMatchObject({ allocProfilePromoted: true });
    expect(parseMessagingArgs([])).toMatchObject({ tailLog: undefined });
    expect(parseMessagingArgs(['--tail-log', '.tmp/tail.jsonl'])).toMatchObject({ tailLog: '.tmp/tail.jsonl' });
    expect(() => parseMessagingArgs(['--alloc-profile-promoted'])).toThrow(/goes with --alloc-profile/);
  });

  it('keeps the single-rate mode: a numeric rate in consumer messages/s, or max (the closed loop alone)', () => {
    expect(parseMessagingArgs(['--rate', '12.5'])).toMatchObject({ messaging: { kind: 'rate', consumerPerSecond: 12.5 }, duration: 60, warmup: 5 });
    expect(parseMessagingArgs(['--rate', 'max', '--consumers', '10', '--agents', '2', '--concurrency', '50'])).toMatchObject({ messaging: { kind: 'max' }, concurrency: 10, capacity: 5 });
    expect(() => parseMessagingArgs(['--rate', '10', '--steps', '100'])).toThrow(/exclude/);
    expect(() => parseMessagingArgs(['--rate', '10', '--ceiling', '5'])).toThrow(/--ceiling/);
  });

  it('runs the idle connections alone unless steps or a rate are asked for too', () => {
    expect(parseMessagingArgs(['--idle', '10000'])).toMatchObject({ idle: 10000, idleBatch: 500, messaging: { kind: 'none' } });
    expect(parseMessagingArgs(['--idle', '2000', '--idle-batch', '250', '--steps', '100'])).toMatchObject({ idle: 2000, idleBatch: 250, messaging: { kind: 'ladder', steps: [100] } });
    expect(parseMessagingArgs(['--idle', '2000', '--rate', '5'])).toMatchObject({ messaging: { kind: 'rate', consumerPerSecond: 5 } });
  });

  it('gives the burst its places: capacity covers the consumers and the burst', () => {
    expect(parseMessagingArgs(['--burst', '200'])).toMatchObject({ burst: 200, capacity: 11 });
  });

  it('selects cluster mode: --redis implies PostgreSQL, several nodes need Redis', () => {
    expect(parseMessagingArgs(['--postgres'])).toMatchObject({ storage: 'postgres', redis: false });
    expect(parseMessagingArgs(['--redis', '--nodes', '2', '--balancer'])).toMatchObject({ storage: 'postgres', redis: true, nodes: 2, balancer: true });
    expect(() => parseMessagingArgs(['--postgres', '--nodes', '2'])).toThrow(/needs --redis/);
    expect(() => parseMessagingArgs(['--balancer'])).toThrow(/--nodes 2/);
  });

  it('collects --server-env pairs and takes a baseline file', () => {
    expect(parseMessagingArgs(['--server-env', 'WS_RATE_LIMIT_PER_SECOND=100', '--server-env', 'A=b=c'])).toMatchObject({ serverEnv: { WS_RATE_LIMIT_PER_SECOND: '100', A: 'b=c' } });
    expect(() => parseMessagingArgs(['--server-env', 'novalue'])).toThrow(UsageError);
    expect(parseMessagingArgs(['--baseline', 'one-node.json'])).toMatchObject({ baseline: 'one-node.json' });
  });

  it('refuses what it cannot honour, with a usage error', () => {
    expect(() => parseMessagingArgs(['--consumers', '0'])).toThrow(UsageError);
    expect(() => parseMessagingArgs(['--rate', 'fast'])).toThrow(/--rate/);
    expect(() => parseMessagingArgs(['--agents', '5', '--capacity', '10'])).toThrow(/fewer than/);
    expect(() => parseMessagingArgs(['--agents', '5'])).toThrow(/at most 100/);
    expect(() => parseMessagingArgs(['--supervise', '1.5'])).toThrow(/--supervise/);
    expect(() => parseMessagingArgs(['--stop-p99', '0'])).toThrow(/--stop-p99/);
    expect(() => parseMessagingArgs(['--bogus'])).toThrow(UsageError);
  });

  it('answers --help, whose text documents every option', () => {
    expect(parseMessagingArgs(['--help'])).toBe('help');
    expect(parseMessagingArgs(['-h'])).toBe('help');
    for (const name of Object.keys(MESSAGING_OPTIONS)) expect(MESSAGING_USAGE).toMatch(new RegExp(`^ {2}--${name}\\b`, 'm'));
  });
});

describe('parseSteps', () => {
  it('reads rising rates, with k for thousands', () => {
    expect(parseSteps('500, 1k,2K,20000')).toEqual([500, 1000, 2000, 20000]);
  });

  it('refuses empty, non-positive, unknown and falling steps', () => {
    expect(() => parseSteps('')).toThrow(UsageError);
    expect(() => parseSteps('100,,200')).toThrow(UsageError);
    expect(() => parseSteps('0,100')).toThrow(UsageError);
    expect(() => parseSteps('fast')).toThrow(UsageError);
    expect(() => parseSteps('200,100')).toThrow(/rise/);
    expect(() => parseSteps('100,100')).toThrow(/rise/);
  });
});
