import { type ApiKeyScope, ApiKeyScopeSchema } from '@parley/protocol';
import { type FormEvent, useState } from 'react';
import { useWorkspace } from '../../app/context.ts';
import { formatDate, formatTime } from '../../lib/format.ts';
import { Dialog } from '../../ui/Dialog.tsx';
import { Async, Empty, ErrorNotice } from '../../ui/feedback.tsx';
import { Icon } from '../../ui/Icon.tsx';
import { Page } from '../../ui/Page.tsx';
import { useResource } from '../../ui/use-resource.ts';
import { CopyButton } from './CopyButton.tsx';

const SCOPES = ApiKeyScopeSchema.options;

export function AdminApiKeysPage() {
  const workspace = useWorkspace();
  const keys = useResource(() => workspace.session.rest.call('listApiKeys'), []);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [revoking, setRevoking] = useState<{ id: string; name: string } | null>(null);
  const [error, setError] = useState<unknown>(null);

  return (
    <Page
      title="API keys"
      description="Keys let your systems and bots call Parley's API. Give each the fewest scopes it needs."
      actions={
        <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
          <Icon name="plus" /> Create key
        </button>
      }
    >
      {secret && (
        <div className="notice notice-success secret-box" role="status">
          <div>
            <p>
              <strong>{secret.name}</strong> is ready. Copy the key now: it is shown only once.
            </p>
            <div className="secret-row">
              <code className="secret" data-testid="api-key-secret">
                {secret.secret}
              </code>
              <CopyButton text={secret.secret} label="Copy key" />
            </div>
          </div>
          <button type="button" className="btn-icon" aria-label="Hide the key" onClick={() => setSecret(null)}>
            <Icon name="close" />
          </button>
        </div>
      )}
      {error !== null && <ErrorNotice error={error} />}
      <Async
        state={keys}
        empty={(d) =>
          d.items.length === 0 ? (
            <Empty title="No API keys yet" icon="key">
              <p>Create one for an integration or a bot.</p>
            </Empty>
          ) : null
        }
      >
        {(data) => (
          <div className="card">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((k) => (
                  <tr key={k.id} className={k.revokedAt ? 'row-muted' : ''}>
                    <td>{k.name}</td>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>
                      <span className="chips">
                        {k.scopes.map((s) => (
                          <span key={s} className="chip">
                            {s}
                          </span>
                        ))}
                      </span>
                    </td>
                    <td className="muted">{formatDate(k.createdAt)}</td>
                    <td className="muted">{k.lastUsedAt ? formatTime(k.lastUsedAt) : 'never'}</td>
                    <td className="cell-actions">
                      {k.revokedAt ? (
                        <span className="chip">revoked</span>
                      ) : (
                        <button type="button" className="btn btn-small btn-danger-ghost" onClick={() => setRevoking({ id: k.id, name: k.name })}>
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Async>
      {creating && (
        <CreateKeyDialog
          onClose={() => setCreating(false)}
          onCreated={(name, value) => {
            setCreating(false);
            setSecret({ name, secret: value });
            keys.reload();
          }}
        />
      )}
      {revoking && (
        <Dialog title="Revoke API key" onClose={() => setRevoking(null)}>
          <p>
            Revoke <strong>{revoking.name}</strong>? Systems using it stop working at once. This cannot be undone.
          </p>
          <div className="row-end">
            <button type="button" className="btn" onClick={() => setRevoking(null)}>
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-danger"
              onClick={async () => {
                setError(null);
                try {
                  await workspace.session.rest.call('revokeApiKey', { params: { id: revoking.id } });
                  keys.reload();
                } catch (err) {
                  setError(err);
                }
                setRevoking(null);
              }}
            >
              Revoke key
            </button>
          </div>
        </Dialog>
      )}
    </Page>
  );
}

function CreateKeyDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (name: string, secret: string) => void }) {
  const workspace = useWorkspace();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ApiKeyScope[]>(['conversations:read', 'conversations:write']);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await workspace.session.rest.call('createApiKey', { body: { name, scopes } });
      onCreated(created.apiKey.name, created.secret);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Dialog title="Create an API key" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <label className="field">
          <span>Name</span>
          <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="CRM integration" />
        </label>
        <fieldset className="field">
          <legend>Scopes</legend>
          <div className="scope-grid">
            {SCOPES.map((s) => (
              <label key={s} className="checkbox">
                <input type="checkbox" checked={scopes.includes(s)} onChange={(e) => setScopes(e.target.checked ? [...scopes, s] : scopes.filter((x) => x !== s))} />
                <code>{s}</code>
              </label>
            ))}
          </div>
        </fieldset>
        {error !== null && <ErrorNotice error={error} compact />}
        <div className="row-end">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            Create key
          </button>
        </div>
      </form>
    </Dialog>
  );
}
