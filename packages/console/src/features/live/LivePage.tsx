import type { AgentState, ConversationSummary, LiveView } from '@parley/protocol';
import { useEffect, useState } from 'react';
import { useWorkspace, useWorkspaceState } from '../../app/context.ts';
import { href, navigate } from '../../app/router.ts';
import { describeError } from '../../app/workspace.ts';
import { channelLabel, consumerLabel, formatDuration } from '../../lib/format.ts';
import { Empty, ErrorNotice, Loading } from '../../ui/feedback.tsx';
import { Page } from '../../ui/Page.tsx';
import { useResource } from '../../ui/use-resource.ts';
import { STATE_LABELS } from '../agent/AgentStateControl.tsx';
import { useNow } from '../inbox/InboxPage.tsx';

const STATES: AgentState[] = ['online', 'away', 'back_soon', 'offline'];

/** Managers: queues per skill, agents with their state and load, and who holds what; live through `live` frames. */
export function LivePage() {
  const workspace = useWorkspace();
  const { live } = useWorkspaceState();
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const now = useNow(5_000);
  const open = useResource(() => workspace.session.rest.listConversations({ scope: 'all', state: 'open', limit: 100 }), []);

  // Pushed `live` frames follow every change; waits and messages per minute also move with time alone, so the view is
  // read again every 15 seconds while the page is open.
  useEffect(() => {
    const load = () =>
      workspace.session.rest.call('getLiveView').then(
        (view) => workspace.dispatch({ type: 'live', live: view }),
        (err: unknown) => setError(err),
      );
    void load();
    const timer = setInterval(() => void load(), 15_000);
    return () => clearInterval(timer);
  }, [workspace]);

  // The live frames say the picture changed; the list of conversations follows.
  const reloadOpen = open.reload;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when the live view moves
  useEffect(() => {
    if (live) reloadOpen();
  }, [live?.at]);

  // Response-time breaches per agent: their open conversations flagged by routing (from the list below).
  const breachedOf = (userId: string) => {
    if (!open.data) return '—';
    const count = open.data.items.filter((c) => c.assignedAgentId === userId && c.routing?.breached).length;
    return count > 0 ? <span className="text-danger">{count}</span> : 0;
  };

  const setState = async (userId: string, state: AgentState) => {
    setActionError(null);
    try {
      await workspace.session.rest.call('setAgentState', { params: { userId }, body: { state, reason: 'Set by a manager' } });
      workspace.dispatch({ type: 'live', live: await workspace.session.rest.call('getLiveView') });
    } catch (err) {
      setActionError(describeError(err));
    }
  };

  const assign = async (conversation: ConversationSummary, agentId: string) => {
    setActionError(null);
    try {
      await workspace.session.rest.call('assignConversation', { params: { conversationId: conversation.id }, body: { agentId } });
      open.reload();
    } catch (err) {
      setActionError(describeError(err));
    }
  };

  return (
    <Page title="Live view" description={live ? `Updated ${formatDuration(now - Date.parse(live.at))} ago` : 'Queues, agents and load, as they change.'}>
      {actionError && (
        <p className="notice notice-error" role="alert">
          {actionError}
        </p>
      )}
      {error !== null && !live ? (
        <ErrorNotice error={error} />
      ) : !live ? (
        <Loading />
      ) : (
        <div className="stack">
          <div className="kpis">
            <Kpi label="Waiting" value={live.skills.reduce((n, s) => n + s.queued, 0)} />
            <Kpi label="Longest wait" value={formatDuration(Math.max(0, ...live.skills.map((s) => s.longestWaitSeconds ?? 0)) * 1000)} />
            <Kpi label="Average wait" value={averageWait(live.skills)} />
            <Kpi label="Open conversations" value={live.skills.reduce((n, s) => n + s.queued + s.assigned, 0)} />
            <Kpi
              label="Agents online / away"
              value={`${live.agents.filter((a) => a.state === 'online').length} / ${live.agents.filter((a) => a.state === 'away' || a.state === 'back_soon').length}`}
            />
            <Kpi label="Load" value={`${live.agents.reduce((n, a) => n + a.assigned, 0)} / ${live.agents.filter((a) => a.state === 'online').reduce((n, a) => n + a.maxConversations, 0)}`} />
            <Kpi label="Breached" value={live.skills.reduce((n, s) => n + s.breached, 0)} tone={live.skills.some((s) => s.breached > 0) ? 'danger' : undefined} />
            <Kpi label="Messages / minute" value={live.messagesPerMinute} />
          </div>
          <section className="card" aria-labelledby="live-skills">
            <header className="card-header">
              <h2 id="live-skills">Queues</h2>
            </header>
            {live.skills.length === 0 ? (
              <p className="list-empty">No skills yet.</p>
            ) : (
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Skill</th>
                    <th scope="col">Waiting</th>
                    <th scope="col">Longest wait</th>
                    <th scope="col">Average wait</th>
                    <th scope="col">Open</th>
                    <th scope="col">Online / away</th>
                    <th scope="col">Load</th>
                    <th scope="col">Breached</th>
                    <th scope="col">Messages / min</th>
                  </tr>
                </thead>
                <tbody>
                  {live.skills.map((s) => (
                    <tr key={s.skillId ?? 'none'}>
                      <td>
                        {s.name} {!s.open && <span className="chip">closed</span>}
                      </td>
                      <td>{s.queued}</td>
                      <td>{s.longestWaitSeconds === null ? '—' : formatDuration(s.longestWaitSeconds * 1000)}</td>
                      <td>{s.averageWaitSeconds === null ? '—' : formatDuration(s.averageWaitSeconds * 1000)}</td>
                      <td>{s.queued + s.assigned}</td>
                      <td>
                        {s.agentsOnline} / {s.agentsAway}
                      </td>
                      <td>
                        <LoadBar used={s.assigned} capacity={s.capacity} />
                      </td>
                      <td className={s.breached > 0 ? 'text-danger' : ''}>{s.breached}</td>
                      <td>{s.messagesPerMinute}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section className="card" aria-labelledby="live-agents">
            <header className="card-header">
              <h2 id="live-agents">Agents</h2>
            </header>
            {live.agents.length === 0 ? (
              <p className="list-empty">No agents.</p>
            ) : (
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Agent</th>
                    <th scope="col">State</th>
                    <th scope="col">Since</th>
                    <th scope="col">Load</th>
                    <th scope="col">Breached</th>
                    <th scope="col">Connected</th>
                  </tr>
                </thead>
                <tbody>
                  {live.agents.map((a) => (
                    <tr key={a.userId}>
                      <td>{a.name}</td>
                      <td>
                        <select aria-label={`State of ${a.name}`} value={a.state} onChange={(e) => void setState(a.userId, e.target.value as AgentState)}>
                          {STATES.map((s) => (
                            <option key={s} value={s}>
                              {STATE_LABELS[s]}
                            </option>
                          ))}
                        </select>
                        {a.reason && <span className="muted small"> {a.reason}</span>}
                      </td>
                      <td className="muted">{formatDuration(now - Date.parse(a.stateSince))}</td>
                      <td>
                        <LoadBar used={a.assigned} capacity={a.maxConversations} />
                      </td>
                      <td>{breachedOf(a.userId)}</td>
                      <td>{a.connected ? 'yes' : <span className="muted">no</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section className="card" aria-labelledby="live-open">
            <header className="card-header">
              <h2 id="live-open">Open conversations</h2>
            </header>
            {open.error ? (
              <ErrorNotice error={open.error} onRetry={open.reload} />
            ) : !open.data ? (
              <Loading />
            ) : open.data.items.length === 0 ? (
              <Empty title="No open conversations" />
            ) : (
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Consumer</th>
                    <th scope="col">Channel</th>
                    <th scope="col">Waiting</th>
                    <th scope="col">Held by</th>
                  </tr>
                </thead>
                <tbody>
                  {open.data.items.map((c) => (
                    <tr key={c.id}>
                      <td>
                        <a
                          href={href(`/conversations/${c.id}`)}
                          onClick={(e) => {
                            e.preventDefault();
                            navigate(`/conversations/${c.id}`);
                          }}
                        >
                          {consumerLabel(c.consumerId)}
                        </a>
                        {c.routing?.breached && <span className="chip chip-danger">Breached</span>}
                      </td>
                      <td>{channelLabel(c.channel)}</td>
                      <td>{c.routing?.awaitingResponseSince ? formatDuration(now - Date.parse(c.routing.awaitingResponseSince)) : '—'}</td>
                      <td>
                        <select
                          aria-label={`Assign the conversation with ${consumerLabel(c.consumerId)}`}
                          value={c.assignedAgentId ?? ''}
                          onChange={(e) => e.target.value && void assign(c, e.target.value)}
                        >
                          <option value="">{c.assignedAgentId ? 'Unknown agent' : 'Unassigned'}</option>
                          {live.agents.map((a) => (
                            <option key={a.userId} value={a.userId}>
                              {a.name} ({a.assigned}/{a.maxConversations})
                            </option>
                          ))}
                        </select>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </div>
      )}
    </Page>
  );
}

/** The mean wait over every skill's queue, each skill's mean weighted by how many wait there. */
function averageWait(skills: LiveView['skills']): string {
  const waiting = skills.filter((s) => s.averageWaitSeconds !== null && s.queued > 0);
  const count = waiting.reduce((n, s) => n + s.queued, 0);
  if (count === 0) return '—';
  return formatDuration((waiting.reduce((sum, s) => sum + (s.averageWaitSeconds ?? 0) * s.queued, 0) / count) * 1000);
}

function Kpi({ label, value, tone }: { label: string; value: string | number; tone?: 'danger' | undefined }) {
  return (
    <div className={`kpi${tone ? ` kpi-${tone}` : ''}`}>
      <span className="kpi-value">{value}</span>
      <span className="kpi-label">{label}</span>
    </div>
  );
}

function LoadBar({ used, capacity }: { used: number; capacity: number }) {
  const ratio = capacity > 0 ? Math.min(1, used / capacity) : used > 0 ? 1 : 0;
  return (
    <span className="load" title={`${used} of ${capacity}`}>
      <span className="load-bar" aria-hidden="true">
        <span style={{ width: `${ratio * 100}%` }} className={ratio >= 1 ? 'full' : ''} />
      </span>
      {used}/{capacity}
    </span>
  );
}
