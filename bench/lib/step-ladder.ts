/**
 * The decisions of the messaging benchmark's ladder of open-loop steps, kept pure so they can be tested: whether a
 * step held its rate, whether the ladder goes on, and the summary figures drawn from the steps.
 */

/** The issue's latency target: a rate is held when p99 (send -> delivery to the other party) is at or under it. */
export const HELD_P99_MS = 50;
/** A step keeps up when it achieves at least this share of the rate it was offered. */
export const KEEP_UP_SHARE = 0.9;
/** Above this send-schedule lag (p99) the generator, not the server, sets the rate. */
export const MAX_SCHEDULE_LAG_MS = 100;

export interface StepOutcome {
  /** Offered stored messages per second (both directions). */
  offered: number;
  /** Stored messages acknowledged per second during the measured window. */
  achieved: number;
  /** p99 of send -> delivery to the other party, both directions (NaN when nothing was delivered). */
  deliveryP99Ms: number;
  /** p99 of the generator's lag behind its send schedule, when it had one. */
  scheduleLagP99Ms: number | null;
  /** The correctness gate passed. */
  valid: boolean;
  /** Why the step was cut short, if it was. */
  aborted: string | undefined;
}

export interface StepVerdict {
  held: boolean;
  /** Why the ladder stops after this step; undefined: it goes on. */
  stop: string | undefined;
}

const n0 = (value: number) => Math.round(value).toLocaleString('en-US');

/** Whether a step held its rate (valid, kept up, p99 within the target) and whether the ladder goes on. */
export function judgeStep(step: StepOutcome, stopP99Ms: number): StepVerdict {
  const keptUp = step.achieved >= step.offered * KEEP_UP_SHARE;
  const p99 = Number.isFinite(step.deliveryP99Ms) ? step.deliveryP99Ms : Number.POSITIVE_INFINITY;
  const held = step.valid && step.aborted === undefined && keptUp && p99 <= HELD_P99_MS;
  // Every reason that applies, the server's first: on a loaded machine the generator may lag too.
  const reasons: string[] = [];
  if (!step.valid) reasons.push('the step is void: it lost or duplicated messages');
  if (step.aborted !== undefined) reasons.push(step.aborted);
  else if (!keptUp) reasons.push(`the server side fell behind: ${n0(step.achieved)} msg/s achieved of ${n0(step.offered)} offered`);
  if (p99 > stopP99Ms) reasons.push(`p99 ${Number.isFinite(p99) ? `${n0(p99)} ms` : '(nothing delivered)'} is above the ${n0(stopP99Ms)} ms that stops the ladder`);
  if (step.scheduleLagP99Ms !== null && step.scheduleLagP99Ms > MAX_SCHEDULE_LAG_MS)
    reasons.push(`the generator fell behind its send schedule (lag p99 ${n0(step.scheduleLagP99Ms)} ms: its core is saturated or shared), so a higher step would measure the generator`);
  const stop = reasons.length > 0 ? reasons.join('; ') : undefined;
  return { held, stop };
}

/**
 * How old the oldest message not yet acknowledged may get during a step before the step is cut short: an open loop
 * above the server's ceiling only grows its backlog, and its drain would take minutes.
 */
export function abortAfterMs(stopP99Ms: number): number {
  return Math.max(5_000, 4 * stopP99Ms);
}

/** The highest offered rate of the steps that held; undefined when none did. */
export function highestHeld(steps: readonly (StepOutcome & StepVerdict)[]): number | undefined {
  let best: number | undefined;
  for (const step of steps) if (step.held && (best === undefined || step.offered > best)) best = step.offered;
  return best;
}

/** CPU ms per 1,000 messages of the valid step offered exactly `rate`; undefined when no such step ran. */
export function cpuPer1000At(steps: readonly (StepOutcome & { cpuMsPer1000: number })[], rate: number): number | undefined {
  return steps.find((s) => s.offered === rate && s.valid && s.aborted === undefined)?.cpuMsPer1000;
}
