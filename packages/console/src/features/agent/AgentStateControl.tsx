import type { AgentState } from '@parley/protocol';
import { ParleyApiError } from '@parley/sdk';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useWorkspace, useWorkspaceState } from '../../app/context.ts';
import { describeError } from '../../app/workspace.ts';

export const STATE_LABELS: Record<AgentState, string> = { online: 'Online', away: 'Away', back_soon: 'Back soon', offline: 'Offline' };
const STATES: AgentState[] = ['online', 'away', 'back_soon', 'offline'];

/** The agent's routing state: only online agents receive conversations. */
export function AgentStateControl() {
  const workspace = useWorkspace();
  const { agent } = useWorkspaceState();
  const [open, setOpen] = useState(false);
  const [choice, setChoice] = useState<AgentState>('online');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const unavailable = !agent && workspace.agentStateError instanceof ParleyApiError && workspace.agentStateError.code === 'ROUTE_NOT_FOUND';
  if (!agent) {
    return (
      <span className="state-pill state-unknown" title={unavailable ? 'Routing is not enabled on this server' : 'Agent state unavailable'}>
        <span className="dot" aria-hidden="true" />
        {unavailable ? 'Routing off' : 'State unknown'}
      </span>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await workspace.setAgentState(choice, choice === 'online' ? undefined : reason.trim() || undefined);
      setOpen(false);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="state-control" ref={box}>
      <button
        type="button"
        className={`state-pill state-${agent.state}`}
        aria-haspopup="dialog"
        aria-expanded={open}
        onClick={() => {
          setChoice(agent.state);
          setReason(agent.reason ?? '');
          setOpen(!open);
        }}
      >
        <span className="dot" aria-hidden="true" />
        {STATE_LABELS[agent.state]}
        {agent.reason && agent.state !== 'online' ? <span className="muted"> · {agent.reason}</span> : null}
        <span className="state-load" title="Conversations assigned / capacity">
          {agent.assigned}/{agent.maxConversations}
        </span>
      </button>
      {open && (
        <form className="popover state-popover" onSubmit={submit} aria-label="Change your state">
          <fieldset>
            <legend>Your state</legend>
            {STATES.map((s) => (
              <label key={s} className="radio">
                <input type="radio" name="agent-state" value={s} checked={choice === s} onChange={() => setChoice(s)} />
                <span className={`dot dot-${s}`} aria-hidden="true" />
                {STATE_LABELS[s]}
              </label>
            ))}
          </fieldset>
          {choice !== 'online' && (
            <label className="field">
              <span>Reason (optional)</span>
              <input value={reason} maxLength={200} onChange={(e) => setReason(e.target.value)} placeholder="Lunch, training, end of shift…" />
            </label>
          )}
          {choice === 'offline' && agent.assigned > 0 && <p className="hint">Going offline returns your {agent.assigned} open conversations to the queue.</p>}
          {error && (
            <p className="field-error" role="alert">
              {error}
            </p>
          )}
          <div className="row-end">
            <button type="button" className="btn" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={busy}>
              Set state
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
