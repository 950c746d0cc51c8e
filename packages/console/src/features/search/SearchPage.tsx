import { ChannelSchema, DeviceTypeSchema, type MessageSearchHit } from '@parley/protocol';
import { type FormEvent, useEffect, useState } from 'react';
import { useWorkspace } from '../../app/context.ts';
import { href, navigate } from '../../app/router.ts';
import { channelLabel, formatTime } from '../../lib/format.ts';
import { roleLabel } from '../../lib/timeline.ts';
import { messageAnchor, snippetParts } from '../../lib/search-snippet.ts';
import { Empty, ErrorNotice, Loading } from '../../ui/feedback.tsx';
import { Page } from '../../ui/Page.tsx';
import { useResource } from '../../ui/use-resource.ts';
import { DEVICE_LABELS } from '../analytics/labels.ts';

interface Filters {
  from: string;
  to: string;
  skillId: string;
  agentId: string;
  channel: string;
  device: string;
}
const NO_FILTERS: Filters = { from: '', to: '', skillId: '', agentId: '', channel: '', device: '' };

/** The search is kept in the page's URL (`/search?q=…&channel=…`), so Back from a result comes back to the results. */
function fromUrl(): { q: string; filters: Filters } {
  const params = new URLSearchParams(window.location.search);
  const filters = { ...NO_FILTERS };
  for (const key of Object.keys(NO_FILTERS) as (keyof Filters)[]) filters[key] = params.get(key) ?? '';
  return { q: params.get('q') ?? '', filters };
}

function toUrl(q: string, filters: Filters): string {
  const params = new URLSearchParams({ q });
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  return `${href('/search')}?${params.toString()}`;
}

/** Supervisors: full-text search over the account's transcripts; a result opens its conversation at the message. */
export function SearchPage() {
  const workspace = useWorkspace();
  const rest = workspace.session.rest;
  const [initial] = useState(fromUrl);
  const [q, setQ] = useState(initial.q);
  const [filters, setFilters] = useState<Filters>(initial.filters);
  const [hits, setHits] = useState<MessageSearchHit[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [searched, setSearched] = useState<string>('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const skills = useResource(() => rest.call('listSkills'), []);
  const agents = useResource(() => rest.call('listAgents'), []);

  const run = async (cursor: string | null) => {
    const query = q.trim();
    if (!query) return;
    setBusy(true);
    setError(null);
    try {
      const params: Record<string, string | number> = { q: query, limit: 25 };
      if (filters.from) params.from = new Date(`${filters.from}T00:00:00`).toISOString();
      if (filters.to) params.to = new Date(new Date(`${filters.to}T00:00:00`).getTime() + 86_400_000).toISOString();
      for (const key of ['skillId', 'agentId', 'channel', 'device'] as const) if (filters[key]) params[key] = filters[key];
      if (cursor) params.cursor = cursor;
      const page = await rest.call('searchMessages', { query: params as never });
      setHits((previous) => (cursor && previous ? [...previous, ...page.items] : page.items));
      setNextCursor(page.nextCursor);
      setSearched(query);
      if (!cursor) window.history.replaceState(null, '', toUrl(query, filters));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  // Back from a conversation: the search in the URL runs again.
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, on opening the page
  useEffect(() => {
    if (initial.q) void run(null);
  }, []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(null);
  };
  const set = (key: keyof Filters) => (event: { target: { value: string } }) => setFilters((f) => ({ ...f, [key]: event.target.value }));

  return (
    <Page title="Search" description='Every message of the account, internal notes included. Exact words; "a phrase", or, -word.'>
      <search>
        <form className="card search-form" onSubmit={submit}>
          <div className="search-box">
            <label className="field search-query">
              <span>Words to find</span>
              <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder='refund "wrong size" -test' maxLength={200} />
            </label>
            <button type="submit" className="btn btn-primary" disabled={busy || !q.trim()}>
              {busy ? 'Searching…' : 'Search'}
            </button>
          </div>
          <div className="form-row">
            <label className="field">
              <span>From</span>
              <input type="date" value={filters.from} onChange={set('from')} />
            </label>
            <label className="field">
              <span>To</span>
              <input type="date" value={filters.to} onChange={set('to')} />
            </label>
            <label className="field">
              <span>Skill</span>
              <select value={filters.skillId} onChange={set('skillId')}>
                <option value="">Any skill</option>
                {skills.data?.items.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Agent</span>
              <select value={filters.agentId} onChange={set('agentId')}>
                <option value="">Any agent</option>
                {agents.data?.items.map((a) => (
                  <option key={a.userId} value={a.userId}>
                    {a.name}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Channel</span>
              <select value={filters.channel} onChange={set('channel')}>
                <option value="">Any channel</option>
                {ChannelSchema.options.map((c) => (
                  <option key={c} value={c}>
                    {channelLabel(c)}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Device</span>
              <select value={filters.device} onChange={set('device')}>
                <option value="">Any device</option>
                {DeviceTypeSchema.options.map((d) => (
                  <option key={d} value={d}>
                    {DEVICE_LABELS[d] ?? d}
                  </option>
                ))}
              </select>
            </label>
          </div>
        </form>
      </search>

      {error !== null && <ErrorNotice error={error} />}
      {hits === null ? (
        busy ? (
          <Loading label="Searching…" />
        ) : null
      ) : hits.length === 0 ? (
        <Empty title="No messages found" icon="search">
          <p>Nothing matches “{searched}” with these filters. Words match exactly: try another form of the word.</p>
        </Empty>
      ) : (
        <section className="card" aria-labelledby="search-results">
          <header className="card-header">
            <h2 id="search-results">
              {hits.length}
              {nextCursor ? '+' : ''} {hits.length === 1 ? 'message' : 'messages'} for “{searched}”
            </h2>
          </header>
          <ol className="search-results">
            {hits.map((hit) => (
              <li key={hit.eventId}>
                <a
                  className="search-hit"
                  href={href(`/conversations/${hit.conversationId}#${messageAnchor(hit.sequence)}`)}
                  onClick={(e) => {
                    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                    e.preventDefault();
                    navigate(`/conversations/${hit.conversationId}#${messageAnchor(hit.sequence)}`);
                  }}
                >
                  <span className="search-hit-meta">
                    <strong>{hit.originator.role === 'consumer' ? 'Consumer' : (hit.originator.name ?? roleLabel(hit.originator.role))}</strong>
                    {hit.internal && <span className="chip chip-note">Internal note</span>}
                    <span className="chip">{channelLabel(hit.conversation.channel)}</span>
                    <span className={`chip${hit.conversation.state === 'open' ? ' chip-ok' : ''}`}>{hit.conversation.state === 'open' ? 'Open' : 'Closed'}</span>
                    <time dateTime={hit.createdAt} className="muted">
                      {formatTime(hit.createdAt)}
                    </time>
                  </span>
                  <span className="search-snippet">
                    {snippetParts(hit.snippet).map((part, i) =>
                      part.match ? (
                        // biome-ignore lint/suspicious/noArrayIndexKey: parts of one fixed string
                        <mark key={i}>{part.text}</mark>
                      ) : (
                        // biome-ignore lint/suspicious/noArrayIndexKey: parts of one fixed string
                        <span key={i}>{part.text}</span>
                      ),
                    )}
                  </span>
                </a>
              </li>
            ))}
          </ol>
          {nextCursor && (
            <div className="search-more">
              <button type="button" className="btn" disabled={busy} onClick={() => void run(nextCursor)}>
                {busy ? 'Loading…' : 'More results'}
              </button>
            </div>
          )}
        </section>
      )}
    </Page>
  );
}
