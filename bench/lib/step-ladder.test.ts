import { describe, expect, it } from 'vitest';
import { abortAfterMs, cpuPer1000At, highestHeld, judgeStep, type StepOutcome } from './step-ladder.ts';

const step = (overrides: Partial<StepOutcome> = {}): StepOutcome => ({
  offered: 1000,
  achieved: 1000,
  deliveryP99Ms: 20,
  scheduleLagP99Ms: 1,
  valid: true,
  aborted: undefined,
  ...overrides,
});

describe('judgeStep', () => {
  it('holds a valid step that kept up with p99 at or under 50 ms, and goes on', () => {
    expect(judgeStep(step(), 500)).toEqual({ held: true, stop: undefined });
    expect(judgeStep(step({ deliveryP99Ms: 50, achieved: 900 }), 500)).toEqual({ held: true, stop: undefined });
  });

  it('goes on without holding when p99 is above 50 ms but below the stop threshold', () => {
    expect(judgeStep(step({ deliveryP99Ms: 120 }), 500)).toEqual({ held: false, stop: undefined });
  });

  it('stops on a void step, whatever its figures', () => {
    const verdict = judgeStep(step({ valid: false }), 500);
    expect(verdict.held).toBe(false);
    expect(verdict.stop).toMatch(/void/);
  });

  it('stops, with the reason, on a void step cut short', () => {
    expect(judgeStep(step({ valid: false, aborted: 'cut short after 3 s', achieved: 10 }), 500).stop).toBe('the step is void: it lost or duplicated messages; cut short after 3 s');
  });

  it('stops, with the reason, on a step cut short', () => {
    expect(judgeStep(step({ aborted: 'cut short after 3 s' }), 500)).toEqual({ held: false, stop: 'cut short after 3 s' });
  });

  it('stops when the generator fell behind its schedule, and says so beside what the server did', () => {
    expect(judgeStep(step({ scheduleLagP99Ms: 150 }), 500).stop).toMatch(/^the generator fell behind its send schedule \(lag p99 150 ms: its core is saturated or shared\)/);
    expect(judgeStep(step({ scheduleLagP99Ms: 80 }), 500).stop).toBeUndefined();
    expect(judgeStep(step({ scheduleLagP99Ms: 150, achieved: 500, deliveryP99Ms: 900 }), 500).stop).toMatch(
      /^the server side fell behind: 500 msg\/s achieved of 1,000 offered; p99 900 ms .*; the generator fell behind/,
    );
  });

  it('stops when the server achieved less than 90% of the offered rate', () => {
    const verdict = judgeStep(step({ achieved: 899 }), 500);
    expect(verdict.held).toBe(false);
    expect(verdict.stop).toMatch(/899 msg\/s achieved of 1,000 offered/);
  });

  it('stops when p99 is above the stop threshold, or nothing was delivered', () => {
    expect(judgeStep(step({ deliveryP99Ms: 501 }), 500).stop).toMatch(/p99 501 ms is above the 500 ms/);
    expect(judgeStep(step({ deliveryP99Ms: Number.NaN }), 500).stop).toMatch(/nothing delivered/);
    expect(judgeStep(step({ deliveryP99Ms: 501 }), 1000).stop).toBeUndefined();
  });

  it('takes a step without a send schedule (the closed loop) on its other figures', () => {
    expect(judgeStep(step({ scheduleLagP99Ms: null }), 500)).toEqual({ held: true, stop: undefined });
  });
});

describe('the ladder summary', () => {
  const ladder = [
    { ...step({ offered: 500, achieved: 500 }), held: true, stop: undefined, cpuMsPer1000: 900 },
    { ...step({ offered: 1000, achieved: 1000, deliveryP99Ms: 70 }), held: false, stop: undefined, cpuMsPer1000: 800 },
    { ...step({ offered: 2000, achieved: 2000, valid: false }), held: false, stop: 'void', cpuMsPer1000: 700 },
  ];

  it('gives the highest rate held, or none', () => {
    expect(highestHeld(ladder)).toBe(500);
    expect(highestHeld(ladder.slice(1))).toBeUndefined();
    expect(highestHeld([])).toBeUndefined();
  });

  it('gives the CPU per 1,000 messages of a valid step at exactly that rate', () => {
    expect(cpuPer1000At(ladder, 1000)).toBe(800);
    expect(cpuPer1000At(ladder, 2000)).toBeUndefined();
    expect(cpuPer1000At(ladder, 5000)).toBeUndefined();
  });

  it('cuts a step short after 5 s of backlog, or four times the stop threshold', () => {
    expect(abortAfterMs(500)).toBe(5000);
    expect(abortAfterMs(2000)).toBe(8000);
  });
});
