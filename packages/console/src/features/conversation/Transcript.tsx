import type { ConversationEvent, QuickReplies, StructuredElement } from '@parley/protocol';
import { type ReactNode, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useWorkspace } from '../../app/context.ts';
import { describeError } from '../../app/workspace.ts';
import { formatBytes, formatTime } from '../../lib/format.ts';
import { anchoredSequence, messageAnchor } from '../../lib/search-snippet.ts';
import { isMessage, lastAckByConsumer, type MessageEvent, roleLabel } from '../../lib/timeline.ts';
import type { ConversationEntry, PendingMessage } from '../../lib/workspace-state.ts';
import { Icon } from '../../ui/Icon.tsx';

/** The conversation's history: messages, internal notes, system notices; older pages load on demand. */
export function Transcript({ entry, meId, onLoadOlder }: { entry: ConversationEntry; meId: string; onLoadOlder: () => Promise<void> }) {
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<string | null>(null);
  const readUpTo = lastAckByConsumer(entry.events, 'read');
  const deliveredUpTo = lastAckByConsumer(entry.events, 'accept');
  const typing = entry.consumerTypingUntil > Date.now();
  const [, rerender] = useState(0);

  // Hide the typing dots when their time is up even if nothing else changes.
  useEffect(() => {
    if (!typing) return;
    const timer = setTimeout(() => rerender((n) => n + 1), entry.consumerTypingUntil - Date.now() + 50);
    return () => clearTimeout(timer);
  }, [typing, entry.consumerTypingUntil]);

  // Stay at the bottom as messages arrive, unless the agent scrolled up to read.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  });

  // A search result opens the conversation at its message (`#seq-12`): load older pages until it is there, then show it.
  const target = useRef(anchoredSequence(window.location.hash));
  const olderLoads = useRef(0);
  useEffect(() => {
    const sequence = target.current;
    if (sequence === null) return;
    const element = scroller.current?.querySelector(`#${messageAnchor(sequence)}`);
    if (element) {
      target.current = null;
      pinned.current = false;
      element.scrollIntoView({ block: 'center' });
      return;
    }
    const oldest = entry.events[0]?.sequence ?? 0;
    if (entry.hasOlder && oldest > sequence && olderLoads.current < 20 && !loadingOlder) {
      olderLoads.current += 1;
      setLoadingOlder(true);
      onLoadOlder()
        .catch((error: unknown) => setOlderError(describeError(error)))
        .finally(() => setLoadingOlder(false));
    }
  });

  const visible = entry.events.filter((e) => e.type !== 'accept_status');
  let previousAuthor = '';

  return (
    <div
      className="transcript"
      ref={scroller}
      onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      }}
      role="log"
      aria-label="Messages"
      aria-live="polite"
      // Focusable so keyboard users can scroll the history.
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
      tabIndex={0}
    >
      {entry.hasOlder && (
        <div className="older">
          <button
            type="button"
            className="btn btn-small"
            disabled={loadingOlder}
            onClick={() => {
              setLoadingOlder(true);
              setOlderError(null);
              pinned.current = false;
              onLoadOlder()
                .catch((error: unknown) => setOlderError(describeError(error)))
                .finally(() => setLoadingOlder(false));
            }}
          >
            {loadingOlder ? 'Loading…' : 'Load earlier messages'}
          </button>
          {olderError && <span className="field-error">{olderError}</span>}
        </div>
      )}
      {!entry.hasOlder && visible.length > 0 && <p className="sys-line">Start of the conversation</p>}
      {visible.map((event) => {
        if (!isMessage(event) || event.originator.role === 'system') {
          previousAuthor = '';
          return <SystemLine key={event.sequence} event={event} />;
        }
        const author = `${event.originator.id}:${event.audience}`;
        const showAuthor = author !== previousAuthor;
        previousAuthor = author;
        const own = event.originator.id === meId;
        const status = own && event.audience === 'all' ? (readUpTo >= event.sequence ? 'Read' : deliveredUpTo >= event.sequence ? 'Delivered' : 'Sent') : null;
        return <Message key={event.sequence} event={event} own={own} showAuthor={showAuthor} status={status} />;
      })}
      {entry.pending.map((p) => (
        <PendingBubble key={p.clientMessageId} pending={p} conversationId={entry.summary.id} />
      ))}
      {typing && (
        <div className="typing" role="status">
          <span aria-hidden="true" />
          <span aria-hidden="true" />
          <span aria-hidden="true" />
          <span className="sr-only">The consumer is typing</span>
        </div>
      )}
    </div>
  );
}

function SystemLine({ event }: { event: ConversationEvent }) {
  let text: string;
  switch (event.type) {
    case 'participant':
      text = `${event.participant.name ?? roleLabel(event.participant.role)} ${event.change === 'joined' ? 'joined' : 'left'}`;
      break;
    case 'conversation_state':
      text = event.state === 'closed' ? `Conversation closed${event.reason ? ` (${event.reason})` : ''}` : 'Conversation reopened';
      break;
    case 'content':
      text = event.content.contentType === 'text/plain' ? event.content.message : event.content.file.name;
      return (
        <div className={`sys-notice${event.audience === 'agents_and_managers' ? ' sys-internal' : ''}`} role="note">
          <Icon name="alert" size={13} />
          <span>{text}</span>
          <time dateTime={event.createdAt}>{formatTime(event.createdAt)}</time>
        </div>
      );
    case 'rich_content':
      text = event.fallbackText ?? 'Rich content';
      break;
    default:
      text = '';
  }
  return (
    <p className="sys-line">
      {text} · <time dateTime={event.createdAt}>{formatTime(event.createdAt)}</time>
    </p>
  );
}

function Message({ event, own, showAuthor, status }: { event: MessageEvent; own: boolean; showAuthor: boolean; status: string | null }) {
  const note = event.audience === 'agents_and_managers';
  const side = event.originator.role === 'consumer' ? 'left' : 'right';
  const author = event.originator.role === 'consumer' ? 'Consumer' : own ? 'You' : (event.originator.name ?? roleLabel(event.originator.role));
  const quickReplies = event.type === 'content' ? event.content.quickReplies : event.quickReplies;
  const targeted = anchoredSequence(window.location.hash) === event.sequence;
  return (
    <div id={messageAnchor(event.sequence)} className={`msg msg-${side}${note ? ' msg-note' : ''}${targeted ? ' msg-target' : ''}`}>
      {(showAuthor || note) && (
        <div className="msg-author">
          {note && (
            <span className="note-tag">
              <Icon name="lock" size={11} /> Internal note
            </span>
          )}
          {author}
        </div>
      )}
      <div className="bubble">
        {event.type === 'content' ? (
          event.content.contentType === 'text/plain' ? (
            <p className="msg-text">{event.content.message}</p>
          ) : (
            <FileContent file={event.content.file} />
          )
        ) : (
          <RichContent element={event.content} fallback={event.fallbackText} />
        )}
        {quickReplies && <QuickReplyChips quickReplies={quickReplies} />}
      </div>
      <div className="msg-meta">
        <time dateTime={event.createdAt}>{formatTime(event.createdAt)}</time>
        {status && (
          <span className={`msg-status status-${status.toLowerCase()}`}>
            <Icon name={status === 'Sent' ? 'check' : 'checks'} size={12} />
            {status}
          </span>
        )}
      </div>
    </div>
  );
}

function QuickReplyChips({ quickReplies }: { quickReplies: QuickReplies }) {
  return (
    <ul className="qr-list" aria-label="Quick replies offered">
      {quickReplies.replies.map((r) => (
        <li key={r.title} className="qr-chip">
          {r.title}
        </li>
      ))}
    </ul>
  );
}

/** Structured content, drawn simply: texts, images as links, buttons as labels. */
function RichContent({ element, fallback }: { element: StructuredElement; fallback?: string | undefined }) {
  const render = (el: StructuredElement, key: number): ReactNode => {
    switch (el.type) {
      case 'text':
        return (
          <p key={key} className="msg-text">
            {el.text}
          </p>
        );
      case 'image':
        return (
          <p key={key} className="muted">
            🖼 {el.caption ?? el.url}
          </p>
        );
      case 'button':
        return (
          <span key={key} className="qr-chip">
            {el.title}
          </span>
        );
      case 'map':
        return (
          <p key={key} className="muted">
            📍 {el.la}, {el.lo}
          </p>
        );
      default:
        return (
          <div key={key} className={`rich-${el.type}`}>
            {el.elements.map(render)}
          </div>
        );
    }
  };
  return <div className="rich">{render(element, 0) ?? fallback}</div>;
}

/** A file of the conversation; downloads need the bearer token, so they go through the SDK, not a plain link. */
function FileContent({ file }: { file: { fileId: string; name: string; contentType: string; size: number; caption?: string | undefined } }) {
  const workspace = useWorkspace();
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const image = file.contentType.startsWith('image/');

  useEffect(() => {
    if (!image) return;
    let revoked = false;
    let objectUrl: string | null = null;
    workspace.session.rest.downloadFile(file.fileId).then(
      (blob) => {
        if (revoked) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      (err: unknown) => setError(describeError(err)),
    );
    return () => {
      revoked = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [workspace, file.fileId, image]);

  const download = async () => {
    try {
      const blob = await workspace.session.rest.downloadFile(file.fileId);
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = file.name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <div className="file">
      {image && url && <img src={url} alt={file.caption ?? file.name} className="file-image" />}
      <button type="button" className="file-chip" onClick={() => void download()}>
        <Icon name="file" />
        <span className="file-name">{file.name}</span>
        <span className="muted">{formatBytes(file.size)}</span>
      </button>
      {file.caption && <p className="msg-text">{file.caption}</p>}
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}

function PendingBubble({ pending, conversationId }: { pending: PendingMessage; conversationId: string }) {
  const workspace = useWorkspace();
  return (
    <div className={`msg msg-right msg-pending${pending.audience === 'agents_and_managers' ? ' msg-note' : ''}`}>
      <div className="bubble">
        <p className="msg-text">{pending.text}</p>
      </div>
      <div className="msg-meta">
        {pending.failed ? (
          <span className="field-error">
            Not sent: {pending.failed}{' '}
            <button type="button" className="link-btn" onClick={() => workspace.dismissPending(conversationId, pending.clientMessageId)}>
              Dismiss
            </button>
          </span>
        ) : (
          <span>
            <Icon name="clock" size={12} /> Sending…
          </span>
        )}
      </div>
    </div>
  );
}
