import type { UserRole as Role } from '@parley/protocol';
import { type FormEvent, useState } from 'react';
import { useWorkspace } from '../../app/context.ts';
import { initials } from '../../app/Shell.tsx';
import { formatDate } from '../../lib/format.ts';
import { Dialog } from '../../ui/Dialog.tsx';
import { Async, Empty, ErrorNotice } from '../../ui/feedback.tsx';
import { Icon } from '../../ui/Icon.tsx';
import { Page } from '../../ui/Page.tsx';
import { useResource } from '../../ui/use-resource.ts';

const ROLES: Role[] = ['agent', 'manager', 'admin'];
const ROLE_HELP: Record<Role, string> = { agent: 'Handles conversations', manager: 'Supervises queues and agents', admin: 'Manages the account' };

export function UsersPage() {
  const workspace = useWorkspace();
  const admin = workspace.me.role === 'admin';
  const users = useResource(() => workspace.session.rest.call('listUsers'), []);
  const [creating, setCreating] = useState(false);
  const [rowError, setRowError] = useState<unknown>(null);

  const update = async (id: string, body: { role?: Role; disabled?: boolean }) => {
    setRowError(null);
    try {
      const user = await workspace.session.rest.call('updateUser', { params: { id }, body });
      if (users.data) users.setData({ items: users.data.items.map((u) => (u.id === id ? user : u)) });
    } catch (error) {
      setRowError(error);
    }
  };

  return (
    <Page
      title="Users & roles"
      description="Everyone who signs in to this workspace, and what they may do."
      actions={
        admin && (
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            <Icon name="plus" /> Add user
          </button>
        )
      }
    >
      {rowError !== null && <ErrorNotice error={rowError} />}
      <Async state={users} empty={(d) => (d.items.length === 0 ? <Empty title="No users yet" icon="users" /> : null)}>
        {(data) => (
          <div className="card">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Added</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((u) => (
                  <tr key={u.id} className={u.disabled ? 'row-muted' : ''}>
                    <td>
                      <span className="cell-user">
                        <span className="avatar avatar-small" aria-hidden="true">
                          {initials(u.name)}
                        </span>
                        {u.name}
                        {u.id === workspace.me.id && <span className="chip">you</span>}
                      </span>
                    </td>
                    <td>{u.email}</td>
                    <td>
                      {admin && u.id !== workspace.me.id ? (
                        <select aria-label={`Role of ${u.name}`} value={u.role} onChange={(e) => void update(u.id, { role: e.target.value as Role })}>
                          {ROLES.map((r) => (
                            <option key={r} value={r}>
                              {r}
                            </option>
                          ))}
                        </select>
                      ) : (
                        <span className={`chip role-${u.role}`}>{u.role}</span>
                      )}
                    </td>
                    <td>
                      {admin && u.id !== workspace.me.id ? (
                        <button type="button" className="btn btn-small" onClick={() => void update(u.id, { disabled: !u.disabled })}>
                          {u.disabled ? 'Enable' : 'Disable'}
                        </button>
                      ) : (
                        <span className={`chip ${u.disabled ? '' : 'chip-ok'}`}>{u.disabled ? 'disabled' : 'active'}</span>
                      )}
                    </td>
                    <td className="muted">{formatDate(u.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Async>
      {creating && (
        <CreateUserDialog
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            users.reload();
          }}
        />
      )}
    </Page>
  );
}

function CreateUserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const workspace = useWorkspace();
  const [form, setForm] = useState({ name: '', email: '', role: 'agent' as Role, password: '' });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await workspace.session.rest.call('createUser', { body: form });
      onCreated();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Dialog title="Add a user" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <label className="field">
          <span>Name</span>
          <input required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </label>
        <label className="field">
          <span>Email</span>
          <input type="email" required value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
        </label>
        <fieldset className="field">
          <legend>Role</legend>
          {ROLES.map((r) => (
            <label key={r} className="radio">
              <input type="radio" name="role" checked={form.role === r} onChange={() => setForm({ ...form, role: r })} />
              <strong>{r}</strong> <span className="muted">— {ROLE_HELP[r]}</span>
            </label>
          ))}
        </fieldset>
        <label className="field">
          <span>Initial password (10 characters or more)</span>
          <input type="password" autoComplete="new-password" required minLength={10} value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />
        </label>
        {error !== null && <ErrorNotice error={error} compact />}
        <div className="row-end">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            Add user
          </button>
        </div>
      </form>
    </Dialog>
  );
}
