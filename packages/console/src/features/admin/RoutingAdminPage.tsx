import type { AgentStatus, RoutingSettings, Skill } from '@parley/protocol';
import { type FormEvent, useState } from 'react';
import { useWorkspace } from '../../app/context.ts';
import { Dialog } from '../../ui/Dialog.tsx';
import { Async, Empty, ErrorNotice } from '../../ui/feedback.tsx';
import { Icon } from '../../ui/Icon.tsx';
import { Page } from '../../ui/Page.tsx';
import { useResource } from '../../ui/use-resource.ts';
import { STATE_LABELS } from '../agent/AgentStateControl.tsx';

export function RoutingAdminPage() {
  const workspace = useWorkspace();
  const admin = workspace.me.role === 'admin';
  const skills = useResource(() => workspace.session.rest.call('listSkills'), []);
  const agents = useResource(() => workspace.session.rest.call('listAgents'), []);
  const [editingSkill, setEditingSkill] = useState<Skill | 'new' | null>(null);
  const [editingAgent, setEditingAgent] = useState<AgentStatus | null>(null);

  return (
    <Page title="Skills & capacity" description="Skills are queues. Agents receive the conversations of their skills, up to their capacity.">
      <div className="stack">
        <section className="card" aria-labelledby="skills-heading">
          <header className="card-header">
            <h2 id="skills-heading">Skills</h2>
            {admin && (
              <button type="button" className="btn btn-small" onClick={() => setEditingSkill('new')}>
                <Icon name="plus" size={14} /> New skill
              </button>
            )}
          </header>
          <Async state={skills} empty={(d) => (d.items.length === 0 ? <Empty title="No skills yet" icon="route" /> : null)}>
            {(data) => (
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Routing</th>
                    <th scope="col">Response target</th>
                    <th scope="col">Hours</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((s) => (
                    <tr key={s.id}>
                      <td>{s.name}</td>
                      <td>{s.routingMode === 'ring' ? `Ring (${s.ringTimeoutSeconds}s)` : 'Automatic'}</td>
                      <td>{s.responseTargetSeconds ? `${Math.round(s.responseTargetSeconds / 60)} min` : '—'}</td>
                      <td>{s.businessHours ? s.businessHours.timeZone : 'Always open'}</td>
                      <td className="cell-actions">
                        {admin && (
                          <button type="button" className="btn-icon" aria-label={`Edit ${s.name}`} onClick={() => setEditingSkill(s)}>
                            <Icon name="edit" />
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Async>
        </section>
        <section className="card" aria-labelledby="agents-heading">
          <header className="card-header">
            <h2 id="agents-heading">Agents</h2>
          </header>
          <Async state={agents} empty={(d) => (d.items.length === 0 ? <Empty title="No agents yet" icon="users" /> : null)}>
            {(data) => (
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Agent</th>
                    <th scope="col">State</th>
                    <th scope="col">Skills</th>
                    <th scope="col">Capacity</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((a) => (
                    <tr key={a.userId}>
                      <td>{a.name}</td>
                      <td>
                        <span className={`state-dot-label state-${a.state}`}>
                          <span className="dot" aria-hidden="true" />
                          {STATE_LABELS[a.state]}
                        </span>
                      </td>
                      <td>
                        <span className="chips">
                          {a.skillIds.length === 0 ? (
                            <span className="muted">none</span>
                          ) : (
                            a.skillIds.map((id) => (
                              <span key={id} className="chip">
                                {skills.data?.items.find((s) => s.id === id)?.name ?? id.slice(0, 6)}
                              </span>
                            ))
                          )}
                        </span>
                      </td>
                      <td>
                        {a.maxConversations}
                        {a.ownMaxConversations === null && <span className="muted small"> (default)</span>}
                      </td>
                      <td className="cell-actions">
                        {admin && (
                          <button type="button" className="btn-icon" aria-label={`Edit ${a.name}`} onClick={() => setEditingAgent(a)}>
                            <Icon name="edit" />
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Async>
        </section>
        <RoutingSettingsCard admin={admin} />
      </div>
      {editingSkill && (
        <SkillDialog
          skill={editingSkill === 'new' ? null : editingSkill}
          onClose={() => setEditingSkill(null)}
          onSaved={() => {
            setEditingSkill(null);
            skills.reload();
          }}
        />
      )}
      {editingAgent && (
        <AgentRoutingDialog
          agent={editingAgent}
          skills={skills.data?.items ?? []}
          onClose={() => setEditingAgent(null)}
          onSaved={() => {
            setEditingAgent(null);
            agents.reload();
          }}
        />
      )}
    </Page>
  );
}

function RoutingSettingsCard({ admin }: { admin: boolean }) {
  const workspace = useWorkspace();
  const settings = useResource(() => workspace.session.rest.call('getRoutingSettings'), []);
  const [capacity, setCapacity] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const save = async (value: number) => {
    setError(null);
    try {
      settings.setData(await workspace.session.rest.call('updateRoutingSettings', { body: { defaultMaxConversations: value } }));
      setCapacity(null);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section className="card" aria-labelledby="routing-settings-heading">
      <header className="card-header">
        <h2 id="routing-settings-heading">Account defaults</h2>
      </header>
      <div className="card-body">
        <Async state={settings}>
          {(s: RoutingSettings) => (
            <div className="form-row">
              <label className="field">
                <span>Default capacity per agent</span>
                <input type="number" min={0} max={100} disabled={!admin} value={capacity ?? s.defaultMaxConversations} onChange={(e) => setCapacity(Number(e.target.value))} />
              </label>
              {admin && capacity !== null && (
                <button type="button" className="btn btn-primary btn-small align-end" onClick={() => void save(capacity)}>
                  Save
                </button>
              )}
              <p className="muted small align-end">
                Offline after a lost connection: {s.disconnectGraceSeconds}s · auto-close: {s.autoCloseSeconds ? `${Math.round(s.autoCloseSeconds / 60)} min` : 'never'}
              </p>
            </div>
          )}
        </Async>
        {error !== null && <ErrorNotice error={error} compact />}
      </div>
    </section>
  );
}

function SkillDialog({ skill, onClose, onSaved }: { skill: Skill | null; onClose: () => void; onSaved: () => void }) {
  const workspace = useWorkspace();
  const [name, setName] = useState(skill?.name ?? '');
  const [routingMode, setRoutingMode] = useState<'auto' | 'ring'>(skill?.routingMode ?? 'auto');
  const [ring, setRing] = useState(skill?.ringTimeoutSeconds ?? 30);
  const [target, setTarget] = useState(skill?.responseTargetSeconds ? String(Math.round(skill.responseTargetSeconds / 60)) : '');
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const body = { name, routingMode, ringTimeoutSeconds: ring, responseTargetSeconds: target ? Number(target) * 60 : null };
    try {
      if (skill) await workspace.session.rest.call('updateSkill', { params: { id: skill.id }, body });
      else await workspace.session.rest.call('createSkill', { body });
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Dialog title={skill ? `Edit ${skill.name}` : 'New skill'} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <label className="field">
          <span>Name</span>
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="Billing" />
        </label>
        <label className="field">
          <span>Routing</span>
          <select value={routingMode} onChange={(e) => setRoutingMode(e.target.value as 'auto' | 'ring')}>
            <option value="auto">Automatic: assign at once</option>
            <option value="ring">Ring: offer to one agent at a time</option>
          </select>
        </label>
        {routingMode === 'ring' && (
          <label className="field">
            <span>Seconds to accept</span>
            <input type="number" min={5} max={600} value={ring} onChange={(e) => setRing(Number(e.target.value))} />
          </label>
        )}
        <label className="field">
          <span>Response target in minutes (empty: none)</span>
          <input type="number" min={1} value={target} onChange={(e) => setTarget(e.target.value)} />
        </label>
        {error !== null && <ErrorNotice error={error} compact />}
        <div className="row-end">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary">
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function AgentRoutingDialog({ agent, skills, onClose, onSaved }: { agent: AgentStatus; skills: Skill[]; onClose: () => void; onSaved: () => void }) {
  const workspace = useWorkspace();
  const [skillIds, setSkillIds] = useState<string[]>(agent.skillIds);
  const [capacity, setCapacity] = useState(agent.ownMaxConversations === null ? '' : String(agent.ownMaxConversations));
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      await workspace.session.rest.call('updateAgentRouting', { params: { userId: agent.userId }, body: { skillIds, maxConversations: capacity === '' ? null : Number(capacity) } });
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Dialog title={`Routing for ${agent.name}`} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <fieldset className="field">
          <legend>Skills</legend>
          {skills.length === 0 && <p className="muted small">Create skills first.</p>}
          {skills.map((s) => (
            <label key={s.id} className="checkbox">
              <input type="checkbox" checked={skillIds.includes(s.id)} onChange={(e) => setSkillIds(e.target.checked ? [...skillIds, s.id] : skillIds.filter((x) => x !== s.id))} />
              {s.name}
            </label>
          ))}
        </fieldset>
        <label className="field">
          <span>Maximum concurrent conversations (empty: the account default)</span>
          <input type="number" min={0} max={100} value={capacity} onChange={(e) => setCapacity(e.target.value)} />
        </label>
        {error !== null && <ErrorNotice error={error} compact />}
        <div className="row-end">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary">
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}
