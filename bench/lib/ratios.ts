/** Parley's figures as ratios of the references measured in the same run, with the targets. */

/** `0.12×`, `1.5×`, `0.0031×`: two significant digits below 1, one decimal above. */
export function formatTimes(ratio: number): string {
  if (!Number.isFinite(ratio)) return '-';
  if (ratio >= 10) return `${Math.round(ratio)}×`;
  if (ratio >= 1) return `${ratio.toFixed(1)}×`;
  if (ratio === 0) return '0×';
  return `${Number(ratio.toPrecision(2))}×`;
}

/**
 * `0.12× (target ≥ 0.9×: not met)`; `-` (and why) when either side is missing or the reference is zero.
 * `value` and `reference` are in the same unit (messages or rows per second).
 */
export function formatRatio(value: number | undefined, reference: number | undefined, target?: number): string {
  if (value === undefined || !Number.isFinite(value)) return '- (no Parley figure)';
  if (reference === undefined || !Number.isFinite(reference) || reference <= 0) return '- (no reference figure)';
  const ratio = value / reference;
  if (target === undefined) return formatTimes(ratio);
  return `${formatTimes(ratio)} (target ≥ ${formatTimes(target)}: ${ratio >= target ? 'met' : 'not met'})`;
}
