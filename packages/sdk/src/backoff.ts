/** Reconnect back-off settings. */
export interface BackoffOptions {
  /** Delay before the first retry. Default 500 ms. */
  initialDelayMs?: number;
  /** Upper bound of any delay. Default 30 s. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Fraction (0..1) of each delay that is randomised, so clients dropped together do not return together. Default 0.5. */
  jitter?: number;
}

/**
 * The delay before reconnect attempt `attempt` (0-based): `initial * factor^attempt`, capped at `max`, of which the
 * `jitter` fraction is random: the result lies in `[d * (1 - jitter), d]`.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const base = Math.min(max, initial * factor ** Math.max(0, attempt));
  return Math.round(base * (1 - jitter * random()));
}
