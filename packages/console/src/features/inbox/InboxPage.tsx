import { type ReactNode, useEffect, useState } from 'react';
import { useWorkspace, useWorkspaceState } from '../../app/context.ts';
import { href, navigate } from '../../app/router.ts';
import { describeError } from '../../app/workspace.ts';
import { channelLabel, consumerLabel, formatDuration, formatTime } from '../../lib/format.ts';
import { type InboxItem, inboxOf } from '../../lib/workspace-state.ts';
import { ErrorNotice, Loading } from '../../ui/feedback.tsx';
import { Icon } from '../../ui/Icon.tsx';
import { ConversationView } from '../conversation/ConversationView.tsx';

/** Re-renders every `ms` so waiting times move. */
export function useNow(ms = 15_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

export function InboxPage({ selectedId }: { selectedId: string | null }) {
  const workspace = useWorkspace();
  useEffect(() => {
    workspace.select(selectedId).catch((error: unknown) => workspace.toast('error', `Could not open the conversation: ${describeError(error)}`));
  }, [workspace, selectedId]);
  return (
    <div className="inbox-layout">
      <InboxList selectedId={selectedId} />
      <ConversationView key={selectedId ?? 'none'} conversationId={selectedId} />
    </div>
  );
}

function InboxList({ selectedId }: { selectedId: string | null }) {
  const workspace = useWorkspace();
  const state = useWorkspaceState();
  const now = useNow();
  const { mine, queue } = inboxOf(state);

  let body: ReactNode;
  if (!state.listsLoaded) body = <Loading label="Loading conversations…" />;
  else if (workspace.listError && mine.length === 0 && queue.length === 0) body = <ErrorNotice error={workspace.listError} onRetry={() => void workspace.reloadLists()} />;
  else
    body = (
      <>
        <section aria-labelledby="mine-heading">
          <h2 className="list-heading" id="mine-heading">
            Mine <span className="count">{mine.length}</span>
          </h2>
          {mine.length === 0 ? (
            <p className="list-empty">No open conversations assigned to you. New ones appear here as they arrive.</p>
          ) : (
            <ul className="conv-list">
              {mine.map((item) => (
                <Row key={item.id} item={item} selected={item.id === selectedId} now={now} />
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="queue-heading">
          <h2 className="list-heading" id="queue-heading">
            Unassigned <span className="count">{queue.length}</span>
          </h2>
          {queue.length === 0 ? (
            <p className="list-empty">The queue is empty.</p>
          ) : (
            <ul className="conv-list">
              {queue.map((item) => (
                <Row key={item.id} item={item} selected={item.id === selectedId} now={now} queue />
              ))}
            </ul>
          )}
        </section>
      </>
    );

  return (
    <aside className="inbox" aria-label="Conversations">
      <header className="pane-header">
        <h1>Inbox</h1>
      </header>
      <div className="inbox-scroll">{body}</div>
    </aside>
  );
}

function Row({ item, selected, now, queue }: { item: InboxItem; selected: boolean; now: number; queue?: boolean }) {
  const workspace = useWorkspace();
  const [busy, setBusy] = useState(false);
  const waiting = item.waitingSince ? now - Date.parse(item.waitingSince) : null;
  const name = consumerLabel(item.summary.consumerId);
  return (
    <li className={`conv-row${selected ? ' selected' : ''}${item.unread > 0 ? ' has-unread' : ''}`}>
      <a
        href={href(`/conversations/${item.id}`)}
        className="conv-link"
        aria-current={selected ? 'true' : undefined}
        onClick={(e) => {
          if (e.metaKey || e.ctrlKey || e.shiftKey) return;
          e.preventDefault();
          navigate(`/conversations/${item.id}`);
        }}
      >
        <span className="avatar avatar-consumer" aria-hidden="true">
          {name.slice(-4, -2)}
        </span>
        <span className="conv-main">
          <span className="conv-top">
            <span className="conv-name">{name}</span>
            <span className="conv-time">{formatTime(item.lastActivity, new Date(now))}</span>
          </span>
          <span className="conv-preview">
            {item.previewIsNote && <span className="note-tag">Note</span>}
            {item.preview || <span className="muted">No messages yet</span>}
          </span>
          <span className="conv-meta">
            <span className="chip">{channelLabel(item.summary.channel)}</span>
            {waiting !== null && (
              <span className={`waiting${waiting > 5 * 60_000 ? ' waiting-long' : ''}`} title="Waiting for an answer since the oldest unanswered message">
                <Icon name="clock" size={12} />
                {formatDuration(waiting)}
              </span>
            )}
            {item.breached && (
              <span className="chip chip-danger" title="Response-time target missed">
                <Icon name="alert" size={12} />
                Breached
              </span>
            )}
            {item.unread > 0 && (
              <span className="badge">
                {item.unread}
                <span className="sr-only"> unread</span>
              </span>
            )}
          </span>
        </span>
      </a>
      {queue && (
        <button
          type="button"
          className="btn btn-small take-btn"
          disabled={busy}
          aria-label={`Take the conversation with ${name}`}
          onClick={() => {
            setBusy(true);
            workspace
              .take(item.id)
              .then(() => navigate(`/conversations/${item.id}`))
              .catch((error: unknown) => {
                workspace.toast('error', `Could not take it: ${describeError(error)}`);
                void workspace.reloadLists();
              })
              .finally(() => setBusy(false));
          }}
        >
          Take
        </button>
      )}
    </li>
  );
}
