import type { AnalyticsReport, AnalyticsReportQuery } from '@parley/protocol';

export type PeriodKind = 'today' | '7d' | '30d' | 'custom';

export interface Period {
  from: string;
  to: string;
  interval: 'hour' | 'day';
}

/** The browser's IANA time zone: days and hours of the report start at its local midnight and hours. */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function startOfLocalDay(date: Date, plusDays = 0): Date {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate() + plusDays);
}

/** `2026-12-01` (a date input's value) as that local day's start. */
function localDay(value: string): Date | null {
  const found = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!found) return null;
  return new Date(Number(found[1]), Number(found[2]) - 1, Number(found[3]));
}

export function dateInputValue(date: Date): string {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

/**
 * The instants a period covers, in the browser's time zone: today by the hour, the last 7 or 30 days (today
 * included) by the day, or custom days (both included; by the hour when it is one day). Null for a custom period
 * that is not a valid range.
 */
export function periodRange(kind: PeriodKind, now: Date, custom?: { from: string; to: string }): Period | null {
  const tomorrow = startOfLocalDay(now, 1);
  switch (kind) {
    case 'today':
      return { from: startOfLocalDay(now).toISOString(), to: tomorrow.toISOString(), interval: 'hour' };
    case '7d':
      return { from: startOfLocalDay(now, -6).toISOString(), to: tomorrow.toISOString(), interval: 'day' };
    case '30d':
      return { from: startOfLocalDay(now, -29).toISOString(), to: tomorrow.toISOString(), interval: 'day' };
    case 'custom': {
      const from = custom ? localDay(custom.from) : null;
      const last = custom ? localDay(custom.to) : null;
      if (!from || !last || last < from) return null;
      const to = startOfLocalDay(last, 1);
      const oneDay = startOfLocalDay(from, 1).getTime() === to.getTime();
      return { from: from.toISOString(), to: to.toISOString(), interval: oneDay ? 'hour' : 'day' };
    }
  }
}

export interface ReportFilters {
  skillId?: string | undefined;
  agentId?: string | undefined;
  channel?: string | undefined;
  device?: string | undefined;
}

/** The report's query: the period, the browser's time zone, and only the filters that are set. */
export function reportQuery(period: Period, timeZone: string, filters: ReportFilters): AnalyticsReportQuery {
  const query: Record<string, string> = { from: period.from, to: period.to, timeZone, interval: period.interval };
  for (const [key, value] of Object.entries(filters)) if (value) query[key] = value;
  return query as unknown as AnalyticsReportQuery;
}

type Bucket = AnalyticsReport['series'][number];

/** One chart's data: the bucket starts (seconds, as uPlot wants) and a column per line, null where nothing was measured. */
export function seriesColumns(report: AnalyticsReport, columns: ReadonlyArray<(bucket: Bucket) => number | null>): [number[], ...(number | null)[][]] {
  const xs = report.series.map((b) => Date.parse(b.start) / 1000);
  return [xs, ...columns.map((pick) => report.series.map(pick))];
}

/** Milliseconds to minutes for charts of durations (one decimal). */
export function minutes(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms / 6000) / 10;
}

/** A share (0..1) as a percentage, or a dash. */
export function percent(share: number | null): string {
  return share === null ? '—' : `${Math.round(share * 100)}%`;
}

/** The name a downloaded CSV gets: the period's local days. */
export function csvFileName(period: Period): string {
  const last = new Date(Date.parse(period.to) - 1);
  return `parley-report-${dateInputValue(new Date(period.from))}-to-${dateInputValue(last)}.csv`;
}

/** Seconds while every figure is under two minutes, else minutes: a chart of waits reads in the unit that fits. */
export function durationUnit(values: (number | null)[]): { name: string; short: string; of: (ms: number | null) => number | null } {
  const max = Math.max(0, ...values.map((v) => v ?? 0));
  if (max < 120_000) return { name: 'seconds', short: 's', of: (ms) => (ms === null ? null : Math.round(ms / 100) / 10) };
  return { name: 'minutes', short: 'min', of: minutes };
}
