import { type AnalyticsReport, ChannelSchema, DeviceTypeSchema } from '@parley/protocol';
import { useMemo, useState } from 'react';
import { useWorkspace } from '../../app/context.ts';
import { describeError } from '../../app/workspace.ts';
import {
  browserTimeZone,
  csvFileName,
  dateInputValue,
  durationUnit,
  type Period,
  type PeriodKind,
  percent,
  periodRange,
  type ReportFilters,
  reportQuery,
  seriesColumns,
} from '../../lib/analytics-period.ts';
import { channelLabel, formatDuration } from '../../lib/format.ts';
import { Empty, ErrorNotice, Loading } from '../../ui/feedback.tsx';
import { Icon } from '../../ui/Icon.tsx';
import { Page } from '../../ui/Page.tsx';
import { useResource } from '../../ui/use-resource.ts';
import { DEVICE_LABELS } from './labels.ts';
import { TimeChart } from './TimeChart.tsx';

const PERIODS: { kind: PeriodKind; label: string }[] = [
  { kind: 'today', label: 'Today' },
  { kind: '7d', label: 'Last 7 days' },
  { kind: '30d', label: 'Last 30 days' },
  { kind: 'custom', label: 'Custom' },
];
const COLORS = { primary: '#3451c7', second: '#7aa0f0', warn: '#c56a00', ok: '#23803a' };
const CSAT_SERIES = [{ label: 'Average score', color: COLORS.ok }];
const duration = (ms: number | null) => (ms === null ? '—' : formatDuration(ms));
type Figures = AnalyticsReport['totals'];

/** Supervisors: the historical report of a period, with charts, breakdowns and its CSV. */
export function AnalyticsPage() {
  const workspace = useWorkspace();
  const rest = workspace.session.rest;
  const timeZone = useMemo(browserTimeZone, []);
  const [kind, setKind] = useState<PeriodKind>('7d');
  const [custom, setCustom] = useState(() => ({ from: dateInputValue(new Date(Date.now() - 13 * 86_400_000)), to: dateInputValue(new Date()) }));
  const [filters, setFilters] = useState<ReportFilters>({});
  const [csvError, setCsvError] = useState<string | null>(null);
  // The period is computed once per choice, so "today" does not move while the page is open.
  const period = useMemo(() => periodRange(kind, new Date(), custom), [kind, custom]);
  const query = period ? reportQuery(period, timeZone, filters) : null;

  const skills = useResource(() => rest.call('listSkills'), []);
  const agents = useResource(() => rest.call('listAgents'), []);
  const report = useResource(() => (query ? rest.call('getAnalyticsReport', { query }) : Promise.resolve(null)), [query]);
  // Breakdowns: the same report once per skill and per channel of the period (a handful of calls).
  const breakdown = useResource(async () => {
    if (!period || !report.data || !skills.data) return null;
    const skillList = filters.skillId ? skills.data.items.filter((s) => s.id === filters.skillId) : skills.data.items;
    const channels = Object.entries(report.data.totals.conversations.byChannel)
      .filter(([, n]) => n > 0)
      .map(([c]) => c);
    const [bySkill, byChannel] = await Promise.all([
      Promise.all(
        skillList.slice(0, 20).map(async (s) => ({ key: s.name, totals: (await rest.call('getAnalyticsReport', { query: reportQuery(period, timeZone, { ...filters, skillId: s.id }) })).totals })),
      ),
      Promise.all(channels.map(async (c) => ({ key: channelLabel(c), totals: (await rest.call('getAnalyticsReport', { query: reportQuery(period, timeZone, { ...filters, channel: c }) })).totals }))),
    ]);
    return { bySkill, byChannel };
  }, [report.data?.from, report.data?.to, query, skills.data?.items.length]);

  const downloadCsv = async () => {
    if (!query || !period) return;
    setCsvError(null);
    try {
      const response = await rest.fetchRaw('getAnalyticsReportCsv', { query });
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement('a');
      link.href = url;
      link.download = csvFileName(period);
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setCsvError(describeError(err));
    }
  };
  const setFilter = (key: keyof ReportFilters) => (event: { target: { value: string } }) => setFilters((f) => ({ ...f, [key]: event.target.value || undefined }));
  const agentName = (id: string) => agents.data?.items.find((a) => a.userId === id)?.name ?? `Agent ${id.slice(0, 4)}`;

  return (
    <Page
      title="Analytics"
      description={`Conversations, waits, answers and satisfaction over a period. Days and hours in your time zone (${timeZone}).`}
      actions={
        <button type="button" className="btn" onClick={() => void downloadCsv()} disabled={!query}>
          <Icon name="file" />
          Download CSV
        </button>
      }
    >
      <div className="card analytics-controls">
        <fieldset className="segmented" aria-label="Period">
          {PERIODS.map((p) => (
            <button key={p.kind} type="button" className={`btn btn-small${kind === p.kind ? ' active' : ''}`} aria-pressed={kind === p.kind} onClick={() => setKind(p.kind)}>
              {p.label}
            </button>
          ))}
        </fieldset>
        {kind === 'custom' && (
          <div className="form-row">
            <label className="field">
              <span>From</span>
              <input type="date" value={custom.from} onChange={(e) => setCustom((c) => ({ ...c, from: e.target.value }))} />
            </label>
            <label className="field">
              <span>To (included)</span>
              <input type="date" value={custom.to} onChange={(e) => setCustom((c) => ({ ...c, to: e.target.value }))} />
            </label>
          </div>
        )}
        <div className="form-row">
          <label className="field">
            <span>Skill</span>
            <select value={filters.skillId ?? ''} onChange={setFilter('skillId')}>
              <option value="">All skills</option>
              {skills.data?.items.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Agent</span>
            <select value={filters.agentId ?? ''} onChange={setFilter('agentId')}>
              <option value="">All agents</option>
              {agents.data?.items.map((a) => (
                <option key={a.userId} value={a.userId}>
                  {a.name}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Channel</span>
            <select value={filters.channel ?? ''} onChange={setFilter('channel')}>
              <option value="">All channels</option>
              {ChannelSchema.options.map((c) => (
                <option key={c} value={c}>
                  {channelLabel(c)}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Device</span>
            <select value={filters.device ?? ''} onChange={setFilter('device')}>
              <option value="">All devices</option>
              {DeviceTypeSchema.options.map((d) => (
                <option key={d} value={d}>
                  {DEVICE_LABELS[d] ?? d}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      {csvError && (
        <p className="notice notice-error" role="alert">
          {csvError}
        </p>
      )}
      {!period ? (
        <p className="notice notice-error" role="alert">
          Choose a first day on or before the last.
        </p>
      ) : report.error ? (
        <ErrorNotice error={report.error} onRetry={report.reload} />
      ) : !report.data ? (
        <Loading label="Computing the report…" />
      ) : (
        <Report report={report.data} period={period} agentName={agentName} breakdown={breakdown.data ?? null} breakdownError={breakdown.error} />
      )}
    </Page>
  );
}

function Report({
  report,
  period,
  agentName,
  breakdown,
  breakdownError,
}: {
  report: AnalyticsReport;
  period: Period;
  agentName: (id: string) => string;
  breakdown: { bySkill: { key: string; totals: Figures }[]; byChannel: { key: string; totals: Figures }[] } | null;
  breakdownError: unknown;
}) {
  const t = report.totals;
  const charts = useMemo(() => {
    const waitUnit = durationUnit(report.series.flatMap((b) => [b.waitTime.p90Ms, b.waitTime.medianMs]));
    const responseUnit = durationUnit(report.series.flatMap((b) => [b.firstResponse.p90Ms, b.firstResponse.medianMs]));
    return {
      conversations: seriesColumns(report, [(b) => b.conversations.started, (b) => b.conversations.closed]),
      waitUnit,
      wait: seriesColumns(report, [(b) => waitUnit.of(b.waitTime.medianMs), (b) => waitUnit.of(b.waitTime.p90Ms)]),
      responseUnit,
      firstResponse: seriesColumns(report, [(b) => responseUnit.of(b.firstResponse.medianMs), (b) => responseUnit.of(b.firstResponse.p90Ms)]),
      csat: seriesColumns(report, [(b) => b.csat?.averageScore ?? null]),
    };
  }, [report]);
  const countSeries = useMemo(
    () => [
      { label: 'Started', color: COLORS.primary },
      { label: 'Closed', color: COLORS.second },
    ],
    [],
  );
  const durationSeries = useMemo(
    () => [
      { label: 'Median', color: COLORS.primary },
      { label: '90th percentile', color: COLORS.warn },
    ],
    [],
  );
  const csat = report.csat;
  const maxScore = Math.max(1, ...Object.values(csat.distribution));

  if (t.conversations.started === 0 && t.conversations.closed === 0 && t.messages.consumer === 0) {
    return (
      <Empty title="Nothing in this period" icon="barChart">
        <p>No conversation started or closed in this period with these filters.</p>
      </Empty>
    );
  }
  return (
    <div className="stack">
      <div className="kpis kpis-wide">
        <Kpi label="Conversations started" value={t.conversations.started} />
        <Kpi label="Closed" value={t.conversations.closed} />
        <Kpi label="Median wait" value={duration(t.waitTime.medianMs)} hint={`90%: ${duration(t.waitTime.p90Ms)}`} />
        <Kpi label="Median first response" value={duration(t.firstResponse.medianMs)} hint={`90%: ${duration(t.firstResponse.p90Ms)}`} />
        <Kpi label="CSAT" value={csat.averageScore === null ? '—' : `${csat.averageScore.toFixed(1)} / 5`} hint={`${percent(csat.satisfiedShare)} satisfied · ${csat.responses} answers`} />
        <Kpi label="Messages" value={t.messages.consumer + t.messages.agent + t.messages.bot} hint={`${t.messages.consumer} consumers · ${t.messages.agent} agents · ${t.messages.bot} bots`} />
        <Kpi label="Median handle time" value={duration(t.handleTime.medianMs)} />
        <Kpi label="From mobile" value={percent(t.conversations.mobileShare)} hint={`${t.transfers} transfers`} />
      </div>

      <div className="chart-grid">
        <section className="card chart-card">
          <TimeChart
            title={`Conversations per ${period.interval}`}
            summary={`${t.conversations.started} started and ${t.conversations.closed} closed in the period; the table of agents and the breakdowns below carry the figures.`}
            data={charts.conversations}
            series={countSeries}
            kind="bars"
            interval={period.interval}
          />
        </section>
        <section className="card chart-card">
          <TimeChart
            title={`Wait before an agent (${charts.waitUnit.name})`}
            summary={`Median wait ${duration(t.waitTime.medianMs)}, 90th percentile ${duration(t.waitTime.p90Ms)}.`}
            data={charts.wait}
            series={durationSeries}
            kind="lines"
            unit={charts.waitUnit.short}
            interval={period.interval}
          />
        </section>
        <section className="card chart-card">
          <TimeChart
            title={`First response (${charts.responseUnit.name})`}
            summary={`Median first response ${duration(t.firstResponse.medianMs)}, 90th percentile ${duration(t.firstResponse.p90Ms)}.`}
            data={charts.firstResponse}
            series={durationSeries}
            kind="lines"
            unit={charts.responseUnit.short}
            interval={period.interval}
          />
        </section>
        <section className="card chart-card" aria-labelledby="csat-title">
          <p className="chart-title" id="csat-title">
            Satisfaction (CSAT)
          </p>
          {csat.responses === 0 ? (
            <p className="list-empty">No survey answered in this period{csat.asked > 0 ? ` (${csat.asked} asked)` : ''}.</p>
          ) : (
            <>
              <table className="csat-bars">
                <caption className="sr-only">Answers per score</caption>
                <tbody>
                  {(['5', '4', '3', '2', '1'] as const).map((score) => (
                    <tr key={score}>
                      <th scope="row">{score}★</th>
                      <td>
                        <span className="csat-bar" style={{ width: `${(csat.distribution[score] / maxScore) * 100}%` }} />
                      </td>
                      <td className="num">{csat.distribution[score]}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p className="muted small">
                {csat.responses} answers, {percent(csat.responseRate)} of the {csat.asked} surveys asked. Average {csat.averageScore?.toFixed(2) ?? '—'}.
              </p>
              {report.series.length > 1 && (
                <TimeChart
                  title={`Average score per ${period.interval}`}
                  summary={`Average CSAT score (1 to 5) of the answers given each ${period.interval}; empty where nobody answered.`}
                  data={charts.csat}
                  series={CSAT_SERIES}
                  kind="lines"
                  unit="/ 5"
                  interval={period.interval}
                />
              )}
            </>
          )}
        </section>
      </div>

      <section className="card" aria-labelledby="analytics-agents">
        <header className="card-header">
          <h2 id="analytics-agents">Agents</h2>
        </header>
        {report.agents.length === 0 ? (
          <p className="list-empty">No agent was logged in or handled a conversation in this period.</p>
        ) : (
          <section
            className="table-scroll"
            // biome-ignore lint/a11y/noNoninteractiveTabindex: it scrolls sideways on narrow screens; the keyboard must reach it (WCAG 2.1.1)
            tabIndex={0}
            aria-label="Agents table"
          >
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col" className="num">
                    Conversations
                  </th>
                  <th scope="col" className="num">
                    Answers
                  </th>
                  <th scope="col" className="num">
                    Closed
                  </th>
                  <th scope="col" className="num">
                    Transfers
                  </th>
                  <th scope="col" className="num">
                    Avg response
                  </th>
                  <th scope="col" className="num">
                    Avg handle time
                  </th>
                  <th scope="col" className="num" title="Time online, away or back soon">
                    Logged in
                  </th>
                  <th scope="col" className="num">
                    Online
                  </th>
                  <th scope="col" className="num" title="Away and back soon together">
                    Away
                  </th>
                  <th scope="col" className="num" title="Conversations assigned per hour online">
                    Per online hour
                  </th>
                  <th scope="col" className="num" title="Conversations held at once on average while logged in">
                    Concurrency
                  </th>
                  <th scope="col" className="num" title="Time holding conversations / (capacity × logged-in time)">
                    Utilisation
                  </th>
                </tr>
              </thead>
              <tbody>
                {report.agents.map((a) => (
                  <tr key={a.agentId}>
                    <td>
                      {agentName(a.agentId)} {a.isBot && <span className="chip">bot</span>}
                    </td>
                    <td className="num">{a.assigned}</td>
                    <td className="num">{a.answers}</td>
                    <td className="num">{a.closed}</td>
                    <td className="num">{a.transfers}</td>
                    <td className="num">{duration(a.responseTime.avgMs)}</td>
                    <td className="num">{duration(a.handleTime.avgMs)}</td>
                    <td className="num">{duration(a.loggedInMs)}</td>
                    <td className="num">{duration(a.onlineMs)}</td>
                    <td className="num">{duration(a.awayMs)}</td>
                    <td className="num">{a.conversationsPerOnlineHour?.toFixed(1) ?? '—'}</td>
                    <td className="num">{a.concurrency?.toFixed(2) ?? '—'}</td>
                    <td className="num">{percent(a.utilisation)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        )}
      </section>

      <div className="chart-grid">
        <Breakdown title="Skills" id="analytics-skills" rows={breakdown?.bySkill} error={breakdownError} />
        <Breakdown title="Channels" id="analytics-channels" rows={breakdown?.byChannel} error={breakdownError} />
      </div>
    </div>
  );
}

function Breakdown({ title, id, rows, error }: { title: string; id: string; rows: { key: string; totals: Figures }[] | undefined; error: unknown }) {
  return (
    <section className="card" aria-labelledby={id}>
      <header className="card-header">
        <h2 id={id}>{title}</h2>
      </header>
      {error ? (
        <ErrorNotice error={error} compact />
      ) : !rows ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p className="list-empty">Nothing in this period.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{title.replace(/s$/, '')}</th>
              <th scope="col" className="num">
                Started
              </th>
              <th scope="col" className="num">
                Closed
              </th>
              <th scope="col" className="num">
                Median wait
              </th>
              <th scope="col" className="num">
                Median first response
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <td>{r.key}</td>
                <td className="num">{r.totals.conversations.started}</td>
                <td className="num">{r.totals.conversations.closed}</td>
                <td className="num">{duration(r.totals.waitTime.medianMs)}</td>
                <td className="num">{duration(r.totals.firstResponse.medianMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Kpi({ label, value, hint }: { label: string; value: string | number; hint?: string }) {
  return (
    <div className="kpi">
      <span className="kpi-value">{value}</span>
      <span className="kpi-label">{label}</span>
      {hint && <span className="kpi-hint">{hint}</span>}
    </div>
  );
}
