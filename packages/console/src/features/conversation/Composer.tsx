import type { CannedResponse, QuickReplies } from '@parley/protocol';
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { useWorkspace } from '../../app/context.ts';
import { findShortcutToken, insertCanned, matchCanned } from '../../lib/canned-match.ts';
import { Icon } from '../../ui/Icon.tsx';
import { useCannedResponses } from './canned-cache.ts';

/** At most this many quick replies on one message (the protocol allows 24; more than 8 overwhelm a phone screen). */
export const MAX_QUICK_REPLIES = 8;
const QUICK_REPLY_MAX_LENGTH = 25;
const TYPING_EVERY_MS = 2_500;
const PAUSE_AFTER_MS = 4_000;

export function toQuickReplies(titles: readonly string[]): QuickReplies | null {
  if (titles.length === 0) return null;
  return {
    type: 'quickReplies',
    itemsPerRow: Math.min(titles.length, 4),
    replies: titles.map((title) => ({ type: 'button', title, click: { actions: [{ type: 'publishText', text: title }] } })),
  };
}

/**
 * Writes replies and internal notes. Typing `/` and a shortcut offers canned responses (Tab or Enter inserts the
 * highlighted one); quick replies can be added to the message; files are uploaded and sent as they are picked.
 */
export function Composer({ conversationId }: { conversationId: string }) {
  const workspace = useWorkspace();
  const canned = useCannedResponses();
  const [text, setText] = useState('');
  const [caret, setCaret] = useState(0);
  const [note, setNote] = useState(false);
  const [replies, setReplies] = useState<string[]>([]);
  const [editingReplies, setEditingReplies] = useState(false);
  const [newReply, setNewReply] = useState('');
  const [active, setActive] = useState(0);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const file = useRef<HTMLInputElement>(null);
  const typingSentAt = useRef(0);
  const pauseTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const token = findShortcutToken(text, caret);
  const matches = token && token.start !== dismissedAt ? matchCanned(canned.data ?? [], token.query) : [];
  const menuOpen = matches.length > 0;

  useEffect(() => {
    area.current?.focus();
    return () => clearTimeout(pauseTimer.current);
  }, []);

  const signalTyping = () => {
    if (note) return; // the consumer does not see notes, so they are not told someone types one
    const now = Date.now();
    if (now - typingSentAt.current > TYPING_EVERY_MS) {
      typingSentAt.current = now;
      workspace.typing(conversationId, 'composing');
    }
    clearTimeout(pauseTimer.current);
    pauseTimer.current = setTimeout(() => {
      typingSentAt.current = 0;
      workspace.typing(conversationId, 'pause');
    }, PAUSE_AFTER_MS);
  };

  const insert = (response: CannedResponse) => {
    if (!token) return;
    const next = insertCanned(text, token, response);
    setText(next.text);
    setCaret(next.caret);
    if (response.quickReplies) setReplies(response.quickReplies.replies.map((r) => r.title).slice(0, MAX_QUICK_REPLIES));
    requestAnimationFrame(() => {
      area.current?.focus();
      area.current?.setSelectionRange(next.caret, next.caret);
    });
  };

  const send = () => {
    const message = text.trim();
    if (!message) return;
    void workspace.send(conversationId, message, { audience: note ? 'agents_and_managers' : 'all', quickReplies: note ? null : toQuickReplies(replies) });
    setText('');
    setCaret(0);
    setReplies([]);
    setEditingReplies(false);
    clearTimeout(pauseTimer.current);
    if (typingSentAt.current) {
      typingSentAt.current = 0;
      workspace.typing(conversationId, 'pause');
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.altKey && (event.key === 'n' || event.key === 'N')) {
      event.preventDefault();
      setNote((n) => !n);
      return;
    }
    if (menuOpen) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        setActive((i) => (i + (event.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length);
        return;
      }
      if (event.key === 'Tab' || event.key === 'Enter') {
        const chosen = matches[active];
        if (chosen) {
          event.preventDefault();
          insert(chosen);
          return;
        }
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        setDismissedAt(token?.start ?? null);
        return;
      }
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  };

  const addReply = () => {
    const title = newReply.trim().slice(0, QUICK_REPLY_MAX_LENGTH);
    if (!title || replies.includes(title) || replies.length >= MAX_QUICK_REPLIES) return;
    setReplies([...replies, title]);
    setNewReply('');
  };

  const listId = `canned-${conversationId}`;
  return (
    <div className={`composer${note ? ' composer-note' : ''}`}>
      <fieldset className="composer-tabs">
        <legend className="sr-only">Message kind</legend>
        <button type="button" aria-pressed={!note} className={`tab${!note ? ' active' : ''}`} onClick={() => setNote(false)}>
          <Icon name="reply" /> Reply
        </button>
        <button type="button" aria-pressed={note} className={`tab${note ? ' active' : ''}`} onClick={() => setNote(true)}>
          <Icon name="lock" /> Internal note
        </button>
        <span className="composer-hint muted">
          {note ? (
            'Only agents and managers see notes.'
          ) : (
            <>
              Type <kbd>/</kbd> for canned responses
            </>
          )}
        </span>
      </fieldset>
      {menuOpen && (
        <div className="canned-menu" id={listId} role="listbox" aria-label="Canned responses" tabIndex={-1}>
          {matches.map((m, i) => (
            <div
              key={m.id}
              id={`${listId}-${i}`}
              role="option"
              tabIndex={-1}
              aria-selected={i === active}
              className={i === active ? 'active' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                insert(m);
              }}
            >
              <span className="canned-shortcut">/{m.shortcut}</span>
              <span className="canned-title">{m.title}</span>
              <span className="canned-text muted">{m.text}</span>
              {m.scope === 'personal' && <span className="chip">mine</span>}
            </div>
          ))}
        </div>
      )}
      <textarea
        ref={area}
        className="composer-input"
        aria-label={note ? 'Internal note' : 'Reply to the consumer'}
        placeholder={note ? 'Write an internal note…' : 'Write a reply…  (/ for canned responses)'}
        value={text}
        rows={3}
        maxLength={10_000}
        aria-controls={menuOpen ? listId : undefined}
        aria-autocomplete="list"
        aria-activedescendant={menuOpen ? `${listId}-${active}` : undefined}
        onChange={(e) => {
          setText(e.target.value);
          setCaret(e.target.selectionStart);
          setDismissedAt(null);
          setActive(0);
          signalTyping();
        }}
        onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
        onKeyDown={onKeyDown}
      />
      {!note && (replies.length > 0 || editingReplies) && (
        <div className="qr-editor">
          {replies.map((r) => (
            <span key={r} className="qr-chip qr-chip-edit">
              {r}
              <button type="button" aria-label={`Remove quick reply ${r}`} onClick={() => setReplies(replies.filter((x) => x !== r))}>
                <Icon name="close" size={11} />
              </button>
            </span>
          ))}
          {editingReplies && replies.length < MAX_QUICK_REPLIES && (
            <span className="qr-add">
              <input
                aria-label="New quick reply"
                placeholder="Add a quick reply"
                value={newReply}
                maxLength={QUICK_REPLY_MAX_LENGTH}
                onChange={(e) => setNewReply(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') {
                    e.preventDefault();
                    addReply();
                  }
                }}
              />
              <button type="button" className="btn btn-small" onClick={addReply} disabled={!newReply.trim()}>
                Add
              </button>
            </span>
          )}
          <span className="muted qr-count">
            {replies.length}/{MAX_QUICK_REPLIES}
          </span>
        </div>
      )}
      <div className="composer-bar">
        <div className="composer-tools">
          {!note && (
            <>
              <button type="button" className="btn-icon" aria-label="Attach a file" title="Attach a file" onClick={() => file.current?.click()}>
                <Icon name="paperclip" />
              </button>
              <input
                ref={file}
                type="file"
                hidden
                onChange={(e) => {
                  const picked = e.target.files?.[0];
                  if (picked) void workspace.sendFile(conversationId, picked);
                  e.target.value = '';
                }}
              />
              <button type="button" className={`btn btn-small${editingReplies ? ' active' : ''}`} aria-pressed={editingReplies} onClick={() => setEditingReplies(!editingReplies)}>
                <Icon name="plus" size={14} /> Quick replies
              </button>
            </>
          )}
        </div>
        <button type="button" className={`btn ${note ? 'btn-note' : 'btn-primary'}`} onClick={send} disabled={!text.trim()}>
          <Icon name="send" />
          {note ? 'Add note' : 'Send'}
        </button>
      </div>
    </div>
  );
}
