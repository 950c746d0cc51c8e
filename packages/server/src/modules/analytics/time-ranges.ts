/** A half-open interval of time [start, end). */
export type TimeRange = [Date, Date];

/** The parts of `ranges` outside `cuts`. */
export function subtractRanges(ranges: TimeRange[], cuts: TimeRange[]): TimeRange[] {
  let out = ranges;
  for (const [cs, ce] of cuts) {
    out = out.flatMap(([s, e]): TimeRange[] => {
      if (ce <= s || cs >= e) return [[s, e]];
      const parts: TimeRange[] = [];
      if (s < cs) parts.push([s, cs]);
      if (ce < e) parts.push([ce, e]);
      return parts;
    });
  }
  return out;
}

/** Sorted, with touching and overlapping ranges joined. */
export function mergeRanges(ranges: TimeRange[]): TimeRange[] {
  const sorted = [...ranges].filter(([s, e]) => s < e).sort(([a], [b]) => a.getTime() - b.getTime());
  const out: TimeRange[] = [];
  for (const [s, e] of sorted) {
    const last = out.at(-1);
    if (last && s <= last[1]) last[1] = new Date(Math.max(last[1].getTime(), e.getTime()));
    else out.push([s, e]);
  }
  return out;
}
