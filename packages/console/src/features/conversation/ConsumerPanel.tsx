import type { ConversationSummary } from '@parley/protocol';
import { useWorkspace } from '../../app/context.ts';
import { href, navigate } from '../../app/router.ts';
import { channelLabel, consumerLabel, formatDate, formatTime } from '../../lib/format.ts';
import { ErrorNotice, Loading } from '../../ui/feedback.tsx';
import { useResource } from '../../ui/use-resource.ts';

/** Who the consumer is and their other conversations. */
export function ConsumerPanel({ summary }: { summary: ConversationSummary }) {
  const workspace = useWorkspace();
  const holds = summary.assignedAgentId === workspace.me.id && summary.state === 'open';
  const allowed = workspace.isSupervisor || holds;
  const details = useResource(() => (allowed ? workspace.session.rest.call('getConsumer', { params: { consumerId: summary.consumerId } }) : Promise.resolve(null)), [summary.consumerId, allowed]);

  return (
    <aside className="side" aria-label="Consumer details">
      <section className="side-section">
        <h2 className="side-heading">Consumer</h2>
        <p className="side-name">{consumerLabel(summary.consumerId)}</p>
        {details.error ? (
          <ErrorNotice error={details.error} onRetry={details.reload} compact />
        ) : details.data === undefined ? (
          <Loading />
        ) : details.data === null ? (
          <p className="muted small">Take the conversation to see who the consumer is and their history.</p>
        ) : (
          <dl className="facts">
            <dt>Identity</dt>
            <dd>{details.data.consumer.authenticated ? `Signed in (${details.data.consumer.externalId})` : 'Anonymous visitor (this device)'}</dd>
            <dt>First seen</dt>
            <dd>{formatDate(details.data.consumer.createdAt)}</dd>
            <dt>Last seen</dt>
            <dd>{formatTime(details.data.consumer.lastSeenAt)}</dd>
          </dl>
        )}
      </section>
      <section className="side-section">
        <h2 className="side-heading">This conversation</h2>
        <dl className="facts">
          <dt>Channel</dt>
          <dd>{channelLabel(summary.channel)}</dd>
          <dt>Started</dt>
          <dd>{formatTime(summary.createdAt)}</dd>
          {summary.routing && (
            <>
              <dt>Routing</dt>
              <dd>{summary.routing.status}</dd>
            </>
          )}
          <dt>Reference</dt>
          <dd>
            <code className="small">{summary.id.slice(0, 8)}</code>
          </dd>
        </dl>
      </section>
      {details.data && (
        <section className="side-section">
          <h2 className="side-heading">Conversations ({details.data.conversations.length})</h2>
          <ul className="past-list">
            {details.data.conversations.map((c) => (
              <li key={c.id}>
                <a
                  href={href(`/conversations/${c.id}`)}
                  className={c.id === summary.id ? 'current' : ''}
                  aria-current={c.id === summary.id ? 'true' : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(`/conversations/${c.id}`);
                  }}
                >
                  <span>{formatDate(c.createdAt)}</span>
                  <span className={`chip ${c.state === 'open' ? 'chip-ok' : ''}`}>{c.state}</span>
                  <span className="muted small">{c.lastSequence} events</span>
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}
    </aside>
  );
}
