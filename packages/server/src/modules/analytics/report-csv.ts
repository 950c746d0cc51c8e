import type { AnalyticsFigures, AnalyticsReport } from '@parley/protocol';

type Duration = AnalyticsFigures['waitTime'];

const durationColumns = (name: string, d: (f: AnalyticsFigures) => Duration) =>
  [
    [`${name}_count`, (f: AnalyticsFigures) => d(f).count],
    [`${name}_avg_ms`, (f: AnalyticsFigures) => d(f).avgMs],
    [`${name}_median_ms`, (f: AnalyticsFigures) => d(f).medianMs],
    [`${name}_p90_ms`, (f: AnalyticsFigures) => d(f).p90Ms],
  ] as const;

const COLUMNS: readonly (readonly [string, (f: AnalyticsFigures) => number | null])[] = [
  ['started', (f) => f.conversations.started],
  ['queued', (f) => f.conversations.queued],
  ['closed', (f) => f.conversations.closed],
  ['closed_by_consumer', (f) => f.conversations.closedByReason.consumer ?? 0],
  ['closed_by_agent', (f) => f.conversations.closedByReason.agent ?? 0],
  ['closed_by_system', (f) => f.conversations.closedByReason.system ?? 0],
  ['closed_by_timeout', (f) => f.conversations.closedByReason.timeout ?? 0],
  ['mobile', (f) => f.conversations.mobile],
  ['mobile_share', (f) => f.conversations.mobileShare],
  ['consumer_messages', (f) => f.messages.consumer],
  ['agent_messages', (f) => f.messages.agent],
  ['bot_messages', (f) => f.messages.bot],
  ...durationColumns('wait', (f) => f.waitTime),
  ...durationColumns('first_response', (f) => f.firstResponse),
  ...durationColumns('response_time', (f) => f.responseTime),
  ...durationColumns('handle_time', (f) => f.handleTime),
  ['transfers', (f) => f.transfers],
  ['bot_handled', (f) => f.bots.handled],
  ['bot_escalated', (f) => f.bots.escalated],
  ['bot_contained', (f) => f.bots.contained],
  ['bot_containment_rate', (f) => f.bots.containmentRate],
  ['bot_escalation_rate', (f) => f.bots.escalationRate],
];

/** The report's series as CSV (RFC 4180): one row per interval, then a `total` row. Empty cells are nulls. */
export function reportToCsv(report: AnalyticsReport): string {
  const header = ['start', ...COLUMNS.map(([name]) => name)];
  const row = (start: string, f: AnalyticsFigures) => [start, ...COLUMNS.map(([, get]) => cell(get(f)))];
  const lines = [header, ...report.series.map((s) => row(s.start, s)), row('total', report.totals)];
  return `${lines.map((l) => l.join(',')).join('\r\n')}\r\n`;
}

function cell(value: number | null): string {
  if (value === null) return '';
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 10_000) / 10_000);
}
