import { type FormEvent, useState } from 'react';
import { useWorkspace } from '../../app/context.ts';
import { Dialog } from '../../ui/Dialog.tsx';
import { ErrorNotice } from '../../ui/feedback.tsx';
import { useResource } from '../../ui/use-resource.ts';
import { STATE_LABELS } from '../agent/AgentStateControl.tsx';

/** Transfer to a skill (its queue), to an agent, or both, with a note the next agent sees. */
export function TransferDialog({ conversationId, onClose, onDone }: { conversationId: string; onClose: () => void; onDone: () => void }) {
  const workspace = useWorkspace();
  const skills = useResource(() => workspace.session.rest.call('listSkills'), []);
  const agents = useResource(() => workspace.session.rest.call('listAgents'), []);
  const [skillId, setSkillId] = useState('');
  const [agentId, setAgentId] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await workspace.transfer(conversationId, { ...(skillId ? { skillId } : {}), ...(agentId ? { agentId } : {}), ...(note.trim() ? { note: note.trim() } : {}) });
      onDone();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <Dialog title="Transfer conversation" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        {!!(skills.error || agents.error) && <ErrorNotice error={skills.error ?? agents.error} compact />}
        <label className="field">
          <span>To a skill (its queue)</span>
          <select value={skillId} onChange={(e) => setSkillId(e.target.value)} disabled={skills.data === undefined}>
            <option value="">{skills.data === undefined && !skills.error ? 'Loading skills…' : '— no skill —'}</option>
            {skills.data?.items.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>To an agent</span>
          <select value={agentId} onChange={(e) => setAgentId(e.target.value)} disabled={agents.data === undefined}>
            <option value="">{agents.data === undefined && !agents.error ? 'Loading agents…' : '— any agent of the skill —'}</option>
            {agents.data?.items
              .filter((a) => a.userId !== workspace.me.id)
              .map((a) => (
                <option key={a.userId} value={a.userId}>
                  {a.name} · {STATE_LABELS[a.state]} · {a.assigned}/{a.maxConversations}
                </option>
              ))}
          </select>
        </label>
        <label className="field">
          <span>Note for the next agent</span>
          <textarea rows={3} maxLength={2000} value={note} onChange={(e) => setNote(e.target.value)} placeholder="What has been done, what is left" />
        </label>
        {error !== null && <ErrorNotice error={error} compact />}
        <div className="row-end">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy || (!skillId && !agentId)}>
            Transfer
          </button>
        </div>
      </form>
    </Dialog>
  );
}
