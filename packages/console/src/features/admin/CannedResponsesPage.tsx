import type { CannedResponse, CannedResponseScope } from '@parley/protocol';
import { type FormEvent, useState } from 'react';
import { useWorkspace } from '../../app/context.ts';
import { Dialog } from '../../ui/Dialog.tsx';
import { Async, Empty, ErrorNotice } from '../../ui/feedback.tsx';
import { Icon } from '../../ui/Icon.tsx';
import { Page } from '../../ui/Page.tsx';
import { useResource } from '../../ui/use-resource.ts';
import { invalidateCannedResponses } from '../conversation/canned-cache.ts';
import { MAX_QUICK_REPLIES, toQuickReplies } from '../conversation/Composer.tsx';

type Editing = { mode: 'create'; scope: CannedResponseScope } | { mode: 'edit'; response: CannedResponse };

export function CannedResponsesPage() {
  const workspace = useWorkspace();
  const admin = workspace.me.role === 'admin';
  const list = useResource(() => workspace.session.rest.call('listCannedResponses'), []);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [deleting, setDeleting] = useState<CannedResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const changed = () => {
    invalidateCannedResponses();
    list.reload();
  };
  const canEdit = (r: CannedResponse) => (r.scope === 'account' ? admin : r.ownerId === workspace.me.id);

  const section = (scope: CannedResponseScope, items: CannedResponse[]) => (
    <section className="card" aria-labelledby={`canned-${scope}`}>
      <header className="card-header">
        <div>
          <h2 id={`canned-${scope}`}>{scope === 'account' ? 'Shared with the team' : 'My canned responses'}</h2>
          <p className="muted small">{scope === 'account' ? 'Every agent of the account can insert these.' : 'Only you see these. Yours win over a shared one with the same shortcut.'}</p>
        </div>
        {(scope === 'personal' || admin) && (
          <button type="button" className="btn btn-small" aria-label={`New ${scope === 'account' ? 'shared' : 'personal'} canned response`} onClick={() => setEditing({ mode: 'create', scope })}>
            <Icon name="plus" size={14} /> New
          </button>
        )}
      </header>
      {items.length === 0 ? (
        <p className="list-empty">None yet.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Shortcut</th>
              <th scope="col">Title</th>
              <th scope="col">Text</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id}>
                <td>
                  <code className="canned-shortcut">/{r.shortcut}</code>
                </td>
                <td>{r.title}</td>
                <td className="cell-text">
                  {r.text}
                  {r.quickReplies && (
                    <span className="chips">
                      {r.quickReplies.replies.map((q) => (
                        <span key={q.title} className="qr-chip">
                          {q.title}
                        </span>
                      ))}
                    </span>
                  )}
                </td>
                <td className="cell-actions">
                  {canEdit(r) && (
                    <>
                      <button type="button" className="btn-icon" aria-label={`Edit /${r.shortcut}`} onClick={() => setEditing({ mode: 'edit', response: r })}>
                        <Icon name="edit" />
                      </button>
                      <button type="button" className="btn-icon" aria-label={`Delete /${r.shortcut}`} onClick={() => setDeleting(r)}>
                        <Icon name="trash" />
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );

  return (
    <Page
      title="Canned responses"
      description={
        <>
          Prepared answers. In a conversation, type <kbd>/</kbd> and the shortcut, then <kbd>Tab</kbd> to insert one.
        </>
      }
    >
      {error !== null && <ErrorNotice error={error} />}
      <Async state={list} empty={() => null}>
        {(data) => (
          <div className="stack">
            {data.items.length === 0 && (
              <Empty title="No canned responses yet" icon="message">
                <p>Create the answers you type most often.</p>
              </Empty>
            )}
            {section(
              'account',
              data.items.filter((r) => r.scope === 'account'),
            )}
            {section(
              'personal',
              data.items.filter((r) => r.scope === 'personal'),
            )}
          </div>
        )}
      </Async>
      {editing && (
        <CannedDialog
          editing={editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            changed();
          }}
        />
      )}
      {deleting && (
        <Dialog title="Delete canned response" onClose={() => setDeleting(null)}>
          <p>
            Delete <code>/{deleting.shortcut}</code> ({deleting.title})?
          </p>
          <div className="row-end">
            <button type="button" className="btn" onClick={() => setDeleting(null)}>
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-danger"
              onClick={async () => {
                setError(null);
                try {
                  await workspace.session.rest.call('deleteCannedResponse', { params: { id: deleting.id } });
                  changed();
                } catch (err) {
                  setError(err);
                }
                setDeleting(null);
              }}
            >
              Delete
            </button>
          </div>
        </Dialog>
      )}
    </Page>
  );
}

function CannedDialog({ editing, onClose, onSaved }: { editing: Editing; onClose: () => void; onSaved: () => void }) {
  const workspace = useWorkspace();
  const existing = editing.mode === 'edit' ? editing.response : null;
  const [shortcut, setShortcut] = useState(existing?.shortcut ?? '');
  const [title, setTitle] = useState(existing?.title ?? '');
  const [text, setText] = useState(existing?.text ?? '');
  const [replies, setReplies] = useState((existing?.quickReplies?.replies ?? []).map((r) => r.title).join('\n'));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const titles = replies
      .split('\n')
      .map((r) => r.trim())
      .filter(Boolean)
      .slice(0, MAX_QUICK_REPLIES);
    const body = { shortcut: shortcut.trim(), title, text, quickReplies: toQuickReplies(titles) };
    try {
      if (existing) await workspace.session.rest.call('updateCannedResponse', { params: { id: existing.id }, body });
      else await workspace.session.rest.call('createCannedResponse', { body: { ...body, scope: editing.mode === 'create' ? editing.scope : 'personal' } });
      onSaved();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const scope = existing?.scope ?? (editing.mode === 'create' ? editing.scope : 'personal');
  return (
    <Dialog title={`${existing ? 'Edit' : 'New'} ${scope === 'account' ? 'shared' : 'personal'} canned response`} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <label className="field">
          <span>Shortcut</span>
          <span className="input-prefix">
            <span aria-hidden="true">/</span>
            <input required pattern="[a-z0-9-]+" title="Lowercase letters, digits and hyphens" maxLength={40} value={shortcut} onChange={(e) => setShortcut(e.target.value.toLowerCase())} />
          </span>
        </label>
        <label className="field">
          <span>Title</span>
          <input required maxLength={120} value={title} onChange={(e) => setTitle(e.target.value)} />
        </label>
        <label className="field">
          <span>Text</span>
          <textarea required rows={4} value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <label className="field">
          <span>Quick replies (one per line, up to {MAX_QUICK_REPLIES}, 25 characters each)</span>
          <textarea rows={3} value={replies} onChange={(e) => setReplies(e.target.value)} placeholder={'Yes\nNo'} />
        </label>
        {error !== null && <ErrorNotice error={error} compact />}
        <div className="row-end">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}
