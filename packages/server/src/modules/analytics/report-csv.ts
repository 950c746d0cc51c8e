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

type Csat = AnalyticsReport['csat'];

/** CSAT of the interval (responses given in it, surveys asked in it) and of the period on the `total` row. */
const CSAT_COLUMNS: readonly (readonly [string, (c: Csat) => number | null])[] = [
  ['csat_responses', (c) => c.responses],
  ['csat_average_score', (c) => c.averageScore],
  ['csat_satisfied_share', (c) => c.satisfiedShare],
  ...(['1', '2', '3', '4', '5'] as const).map((score) => [`csat_score_${score}`, (c: Csat) => c.distribution[score] ?? 0] as const),
  ['csat_asked', (c) => c.asked],
  ['csat_response_rate', (c) => c.responseRate],
];

type AgentFigures = AnalyticsReport['agents'][number];

const AGENT_COLUMNS: readonly (readonly [string, (a: AgentFigures) => number | string | boolean | null])[] = [
  ['agent_id', (a) => a.agentId],
  ['is_bot', (a) => a.isBot],
  ['assigned', (a) => a.assigned],
  ['answers', (a) => a.answers],
  ['closed', (a) => a.closed],
  ['transfers', (a) => a.transfers],
  ['response_time_avg_ms', (a) => a.responseTime.avgMs],
  ['handle_time_avg_ms', (a) => a.handleTime.avgMs],
  ['handle_ms_total', (a) => a.handleMsTotal],
  ['logged_in_ms', (a) => a.loggedInMs],
  ['online_ms', (a) => a.onlineMs],
  ['away_ms', (a) => a.awayMs],
  ['back_soon_ms', (a) => a.backSoonMs],
  ['engaged_ms', (a) => a.engagedMs],
  ['conversations_per_online_hour', (a) => a.conversationsPerOnlineHour],
  ['concurrency', (a) => a.concurrency],
  ['utilisation', (a) => a.utilisation],
];

/**
 * The report as CSV (RFC 4180 rows): the series, one row per interval, then a `total` row; after an empty line, the
 * agents, one row each (the figures of the whole period). Empty cells are nulls.
 */
export function reportToCsv(report: AnalyticsReport): string {
  const header = ['start', ...COLUMNS.map(([name]) => name), ...CSAT_COLUMNS.map(([name]) => name)];
  const row = (start: string, f: AnalyticsFigures, csat: Csat | undefined) => [start, ...COLUMNS.map(([, get]) => cell(get(f))), ...CSAT_COLUMNS.map(([, get]) => cell(csat ? get(csat) : null))];
  const lines = [header, ...report.series.map((s) => row(s.start, s, s.csat)), row('total', report.totals, report.csat)];
  const agentLines = [AGENT_COLUMNS.map(([name]) => name), ...report.agents.map((a) => AGENT_COLUMNS.map(([, get]) => cell(get(a))))];
  return `${[...lines, [], ...agentLines].map((l) => l.join(',')).join('\r\n')}\r\n`;
}

function cell(value: number | string | boolean | null): string {
  if (value === null) return '';
  if (typeof value !== 'number') return String(value);
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 10_000) / 10_000);
}
