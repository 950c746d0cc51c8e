import { useEffect, useState } from 'react';
import { useWorkspace, useWorkspaceState } from '../../app/context.ts';
import { navigate } from '../../app/router.ts';
import { describeError } from '../../app/workspace.ts';
import { channelLabel, consumerLabel } from '../../lib/format.ts';
import { Empty, Loading } from '../../ui/feedback.tsx';
import { Icon } from '../../ui/Icon.tsx';
import { Composer } from './Composer.tsx';
import { ConsumerPanel } from './ConsumerPanel.tsx';
import { Transcript } from './Transcript.tsx';
import { TransferDialog } from './TransferDialog.tsx';

export function ConversationView({ conversationId }: { conversationId: string | null }) {
  const workspace = useWorkspace();
  const state = useWorkspaceState();
  const entry = conversationId ? state.conversations[conversationId] : undefined;
  const [transfer, setTransfer] = useState(false);
  const [busy, setBusy] = useState(false);

  // Read receipts: the consumer's messages are read while the conversation is on screen and the tab is visible.
  useEffect(() => {
    if (!conversationId || !entry) return;
    const mark = () => document.visibilityState === 'visible' && workspace.markRead(conversationId);
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [workspace, conversationId, entry]);

  if (!conversationId) {
    return (
      <section className="conversation conversation-empty" aria-label="Conversation">
        <Empty title="Pick a conversation" icon="message">
          <p>
            Choose one in the inbox, or press <kbd>Alt</kbd> + <kbd>↓</kbd>. Press <kbd>?</kbd> for every shortcut.
          </p>
        </Empty>
      </section>
    );
  }
  if (!entry) {
    return (
      <section className="conversation conversation-empty" aria-label="Conversation">
        <Loading label="Opening the conversation…" />
      </section>
    );
  }

  const summary = entry.summary;
  const mine = summary.assignedAgentId === workspace.me.id;
  const supervisor = workspace.isSupervisor;
  const open = summary.state === 'open';
  const assignee = summary.participants.find((p) => p.id === summary.assignedAgentId);
  const act = (what: string, run: () => Promise<void>) => () => {
    setBusy(true);
    run()
      .catch((error: unknown) => workspace.toast('error', `Could not ${what}: ${describeError(error)}`))
      .finally(() => setBusy(false));
  };

  return (
    <div className="conversation-layout">
      <section className="conversation" aria-labelledby="conversation-title">
        <header className="pane-header conv-header">
          <div>
            <h1 id="conversation-title">{consumerLabel(summary.consumerId)}</h1>
            <p className="conv-sub">
              <span className="chip">{channelLabel(summary.channel)}</span>
              <span className={`chip ${open ? 'chip-ok' : ''}`}>{open ? 'Open' : 'Closed'}</span>
              {summary.routing?.breached && <span className="chip chip-danger">Breached</span>}
              <span className="muted">{assignee ? `with ${mine ? 'you' : (assignee.name ?? 'an agent')}` : open ? 'waiting in the queue' : ''}</span>
            </p>
          </div>
          <div className="conv-actions">
            {open && summary.assignedAgentId === null && (
              <button type="button" className="btn btn-primary" disabled={busy} onClick={act('take it', () => workspace.take(summary.id))}>
                Take
              </button>
            )}
            {open && (mine || supervisor) && (
              <button type="button" className="btn" disabled={busy} onClick={() => setTransfer(true)}>
                <Icon name="transfer" />
                Transfer
              </button>
            )}
            {open && (mine || supervisor) && (
              <button
                type="button"
                className="btn"
                disabled={busy}
                onClick={act('close it', async () => {
                  await workspace.close(summary.id);
                  workspace.toast('success', 'Conversation closed');
                })}
              >
                <Icon name="check" />
                Close
              </button>
            )}
          </div>
        </header>
        {summary.routing?.transferNote && open && (
          <div className="transfer-note" role="note">
            <Icon name="transfer" />
            <span>
              <strong>Transfer note:</strong> {summary.routing.transferNote}
            </span>
          </div>
        )}
        <Transcript entry={entry} meId={workspace.me.id} onLoadOlder={() => workspace.loadOlder(summary.id)} />
        {open && (mine || (supervisor && summary.assignedAgentId !== null)) ? (
          <Composer conversationId={summary.id} />
        ) : (
          <div className="composer-placeholder">
            {!open ? (
              <span>This conversation is closed. The consumer's next message starts a new one.</span>
            ) : summary.assignedAgentId === null ? (
              <>
                <span>This conversation waits in the queue.</span>
                <button type="button" className="btn btn-primary btn-small" disabled={busy} onClick={act('take it', () => workspace.take(summary.id))}>
                  Take it to reply
                </button>
              </>
            ) : (
              <span>Another agent holds this conversation.</span>
            )}
          </div>
        )}
      </section>
      <ConsumerPanel summary={summary} />
      {transfer && (
        <TransferDialog
          conversationId={summary.id}
          onClose={() => setTransfer(false)}
          onDone={() => {
            setTransfer(false);
            workspace.toast('success', 'Conversation transferred');
            if (!supervisor) navigate('/');
          }}
        />
      )}
    </div>
  );
}
