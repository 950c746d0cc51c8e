import { type WebhookDelivery, type WebhookEventType, WebhookEventTypeSchema, type WebhookSubscription } from '@parley/protocol';
import { type FormEvent, useState } from 'react';
import { useWorkspace } from '../../app/context.ts';
import { formatTime } from '../../lib/format.ts';
import { Dialog } from '../../ui/Dialog.tsx';
import { Async, Empty, ErrorNotice } from '../../ui/feedback.tsx';
import { Icon } from '../../ui/Icon.tsx';
import { Page } from '../../ui/Page.tsx';
import { useResource } from '../../ui/use-resource.ts';
import { CopyButton } from './CopyButton.tsx';

const EVENT_TYPES = WebhookEventTypeSchema.options;
const EVENT_LABELS: Record<WebhookEventType, string> = {
  'conversation.opened': 'Conversation opened (or reopened)',
  'conversation.message': 'Message (not internal notes)',
  'conversation.assigned': 'Assigned to an agent or a bot',
  'conversation.transferred': 'Transferred',
  'conversation.escalated': 'Escalated by a bot',
  'conversation.closed': 'Closed',
};

type Editing = { mode: 'create' } | { mode: 'edit'; subscription: WebhookSubscription };
type Confirming = { kind: 'rotate' | 'delete'; subscription: WebhookSubscription };

/** Admins: the account's outbound webhooks, their status, secrets and delivery log. */
export function WebhooksPage() {
  const workspace = useWorkspace();
  const rest = workspace.session.rest;
  const list = useResource(() => rest.call('listWebhooks'), []);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [confirming, setConfirming] = useState<Confirming | null>(null);
  const [secret, setSecret] = useState<{ url: string; secret: string; rotated: boolean } | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const act = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      list.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <Page
      title="Webhooks"
      description="Parley POSTs conversation events to your endpoints, signed with each endpoint's secret, in order per conversation, and retries failed deliveries."
      actions={
        <button type="button" className="btn btn-primary" onClick={() => setEditing({ mode: 'create' })}>
          <Icon name="plus" /> Add endpoint
        </button>
      }
    >
      {secret && (
        <div className="notice notice-success secret-box" role="status">
          <div>
            <p>
              {secret.rotated ? 'New signing secret' : 'Signing secret'} for <strong>{secret.url}</strong>. Copy it now: it is shown only once.
              {secret.rotated && ' Deliveries carry a signature with the previous secret too until the grace period ends.'}
            </p>
            <div className="secret-row">
              <code className="secret" data-testid="webhook-secret">
                {secret.secret}
              </code>
              <CopyButton text={secret.secret} label="Copy secret" />
            </div>
          </div>
          <button type="button" className="btn-icon" aria-label="Hide the secret" onClick={() => setSecret(null)}>
            <Icon name="close" />
          </button>
        </div>
      )}
      {error !== null && <ErrorNotice error={error} />}
      <Async
        state={list}
        empty={(d) =>
          d.items.length === 0 ? (
            <Empty title="No webhooks yet" icon="zap">
              <p>Add an endpoint to receive conversation events in your systems.</p>
            </Empty>
          ) : null
        }
      >
        {(data) => (
          <>
            {data.items
              .filter((s) => s.status === 'disabled' && s.disabledReason?.startsWith('Disabled by Parley'))
              .map((s) => (
                <div key={s.id} className="notice notice-error" role="alert">
                  <Icon name="alert" />
                  <div>
                    <p>
                      <strong>{s.url}</strong> is disabled. {s.disabledReason}.
                    </p>
                    <p className="small">Fix the endpoint, send it a test ping, then enable it again and replay the failed deliveries from its log.</p>
                  </div>
                </div>
              ))}
            <div className="card">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Endpoint</th>
                    <th scope="col">Events</th>
                    <th scope="col">Status</th>
                    <th scope="col">Secret</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((s) => (
                    <tr key={s.id} className={s.status === 'disabled' ? 'row-muted' : ''}>
                      <td className="cell-text">
                        <code>{s.url}</code>
                        {s.description && <div className="muted small">{s.description}</div>}
                      </td>
                      <td>
                        <span className="chips">
                          {s.eventTypes.map((type) => (
                            <span key={type} className="chip">
                              {type.replace('conversation.', '')}
                            </span>
                          ))}
                        </span>
                      </td>
                      <td>
                        {s.status === 'active' ? <span className="chip chip-ok">active</span> : <span className="chip chip-danger">disabled</span>}
                        {s.status === 'disabled' && s.disabledReason && <div className="muted small">{s.disabledReason}</div>}
                        {s.status === 'active' && s.consecutiveFailures > 0 && <div className="muted small">{s.consecutiveFailures} failed attempts in a row</div>}
                      </td>
                      <td>
                        <code>{s.secretPrefix}…</code>
                        {s.previousSecretExpiresAt && <div className="muted small">old one valid until {formatTime(s.previousSecretExpiresAt)}</div>}
                      </td>
                      <td className="cell-actions">
                        <button type="button" className="btn btn-small" aria-pressed={selected === s.id} onClick={() => setSelected(selected === s.id ? null : s.id)}>
                          Deliveries
                        </button>
                        <button type="button" className="btn btn-small" onClick={() => act(() => rest.call('pingWebhook', { params: { id: s.id } }).then(() => setSelected(s.id)))}>
                          Ping
                        </button>
                        <button
                          type="button"
                          className="btn btn-small"
                          onClick={() => act(() => rest.call('updateWebhook', { params: { id: s.id }, body: { status: s.status === 'active' ? 'disabled' : 'active' } }))}
                        >
                          {s.status === 'active' ? 'Disable' : 'Enable'}
                        </button>
                        <button type="button" className="btn-icon" aria-label={`Edit ${s.url}`} onClick={() => setEditing({ mode: 'edit', subscription: s })}>
                          <Icon name="edit" />
                        </button>
                        <button type="button" className="btn-icon" aria-label={`Rotate the secret of ${s.url}`} onClick={() => setConfirming({ kind: 'rotate', subscription: s })}>
                          <Icon name="key" />
                        </button>
                        <button type="button" className="btn-icon" aria-label={`Delete ${s.url}`} onClick={() => setConfirming({ kind: 'delete', subscription: s })}>
                          <Icon name="trash" />
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {selected && data.items.some((s) => s.id === selected) && (
              <DeliveryLog key={selected} subscription={data.items.find((s) => s.id === selected) as WebhookSubscription} onReplayed={() => list.reload()} />
            )}
          </>
        )}
      </Async>
      {editing && (
        <WebhookDialog
          editing={editing}
          onClose={() => setEditing(null)}
          onSaved={(created) => {
            setEditing(null);
            if (created) setSecret({ url: created.url, secret: created.secret, rotated: false });
            list.reload();
          }}
        />
      )}
      {confirming?.kind === 'rotate' && (
        <RotateDialog
          subscription={confirming.subscription}
          onClose={() => setConfirming(null)}
          onRotated={(value) => {
            setConfirming(null);
            setSecret({ url: confirming.subscription.url, secret: value, rotated: true });
            list.reload();
          }}
        />
      )}
      {confirming?.kind === 'delete' && (
        <Dialog title="Delete webhook" onClose={() => setConfirming(null)}>
          <p>
            Delete <strong>{confirming.subscription.url}</strong> and its delivery log? Deliveries not yet made are dropped.
          </p>
          <div className="row-end">
            <button type="button" className="btn" onClick={() => setConfirming(null)}>
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-danger"
              onClick={async () => {
                const id = confirming.subscription.id;
                setConfirming(null);
                if (selected === id) setSelected(null);
                await act(() => rest.call('deleteWebhook', { params: { id } }));
              }}
            >
              Delete webhook
            </button>
          </div>
        </Dialog>
      )}
    </Page>
  );
}

function DeliveryLog({ subscription, onReplayed }: { subscription: WebhookSubscription; onReplayed: () => void }) {
  const rest = useWorkspace().session.rest;
  const [pages, setPages] = useState<WebhookDelivery[]>([]);
  const first = useResource(() => rest.call('listWebhookDeliveries', { params: { id: subscription.id }, query: { limit: 20 } }), [subscription.id]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const more = async (before: string) => {
    try {
      const page = await rest.call('listWebhookDeliveries', { params: { id: subscription.id }, query: { limit: 20, before } });
      setPages((p) => [...p, ...page.items]);
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section className="card" style={{ marginTop: 16 }} aria-labelledby="webhook-deliveries">
      <header className="card-header">
        <div>
          <h2 id="webhook-deliveries">Deliveries</h2>
          <p className="muted small">
            To <code>{subscription.url}</code>, newest first. A replay sends the same event (same event id and body) as a new delivery.
          </p>
        </div>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => {
            setPages([]);
            setCursor(undefined);
            first.reload();
          }}
        >
          Refresh
        </button>
      </header>
      {error !== null && <ErrorNotice error={error} compact />}
      <Async state={first} empty={(d) => (d.items.length === 0 ? <p className="list-empty">No deliveries yet.</p> : null)}>
        {(data) => {
          const items = [...data.items, ...pages];
          const next = cursor === undefined ? data.nextCursor : cursor;
          return (
            <>
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Event</th>
                    <th scope="col">Status</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Last answer</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((d) => (
                    <tr key={d.id}>
                      <td className="muted" title={d.createdAt}>
                        {formatTime(d.createdAt)}
                      </td>
                      <td>
                        <code>{d.eventType}</code>
                        {d.replayOf && <div className="muted small">replay</div>}
                      </td>
                      <td>
                        <span className={`chip ${d.status === 'delivered' ? 'chip-ok' : d.status === 'failed' ? 'chip-danger' : ''}`}>{d.status}</span>
                        {d.status === 'pending' && d.nextAttemptAt && d.attempts > 0 && <div className="muted small">next try {formatTime(d.nextAttemptAt)}</div>}
                      </td>
                      <td>{d.attempts}</td>
                      <td className="cell-text">
                        {d.lastStatusCode !== null && <code>{d.lastStatusCode}</code>} {d.durationMs !== null && <span className="muted small">{d.durationMs} ms</span>}
                        {d.lastError && <div className="muted small">{d.lastError}</div>}
                      </td>
                      <td className="cell-actions">
                        <button
                          type="button"
                          className="btn btn-small"
                          disabled={subscription.status !== 'active' && d.eventType !== 'ping'}
                          onClick={async () => {
                            setError(null);
                            try {
                              await rest.call('replayWebhookDelivery', { params: { id: subscription.id, deliveryId: d.id } });
                              setPages([]);
                              setCursor(undefined);
                              first.reload();
                              onReplayed();
                            } catch (err) {
                              setError(err);
                            }
                          }}
                        >
                          Replay
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {next && (
                <div className="row-end card-body">
                  <button type="button" className="btn btn-small" onClick={() => more(next)}>
                    Older deliveries
                  </button>
                </div>
              )}
            </>
          );
        }}
      </Async>
    </section>
  );
}

function WebhookDialog({ editing, onClose, onSaved }: { editing: Editing; onClose: () => void; onSaved: (created?: { url: string; secret: string }) => void }) {
  const rest = useWorkspace().session.rest;
  const current = editing.mode === 'edit' ? editing.subscription : null;
  const [url, setUrl] = useState(current?.url ?? 'https://');
  const [description, setDescription] = useState(current?.description ?? '');
  const [types, setTypes] = useState<WebhookEventType[]>(current?.eventTypes ?? ['conversation.opened', 'conversation.message', 'conversation.closed']);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (current) {
        await rest.call('updateWebhook', { params: { id: current.id }, body: { url, description, eventTypes: types } });
        onSaved();
      } else {
        const created = await rest.call('createWebhook', { body: { url, description, eventTypes: types } });
        onSaved({ url: created.subscription.url, secret: created.secret });
      }
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Dialog title={current ? 'Edit webhook' : 'Add a webhook endpoint'} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <label className="field">
          <span>Endpoint URL</span>
          <input required type="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/parley/webhooks" />
        </label>
        <label className="field">
          <span>Description</span>
          <input value={description} maxLength={500} onChange={(e) => setDescription(e.target.value)} placeholder="CRM sync" />
        </label>
        <fieldset className="field">
          <legend>Events</legend>
          <div className="scope-grid">
            {EVENT_TYPES.map((type) => (
              <label key={type} className="checkbox">
                <input type="checkbox" checked={types.includes(type)} onChange={(e) => setTypes(e.target.checked ? [...types, type] : types.filter((x) => x !== type))} />
                <span>{EVENT_LABELS[type]}</span>
              </label>
            ))}
          </div>
        </fieldset>
        {error !== null && <ErrorNotice error={error} compact />}
        <div className="row-end">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy || types.length === 0}>
            {current ? 'Save' : 'Add endpoint'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function RotateDialog({ subscription, onClose, onRotated }: { subscription: WebhookSubscription; onClose: () => void; onRotated: (secret: string) => void }) {
  const rest = useWorkspace().session.rest;
  const [graceSeconds, setGraceSeconds] = useState(24 * 3600);
  const [error, setError] = useState<unknown>(null);
  return (
    <Dialog title="Rotate signing secret" onClose={onClose}>
      <p>
        Give <strong>{subscription.url}</strong> a new secret. During the grace period deliveries carry signatures with both the new and the old secret, so the receiver can switch without losing any.
      </p>
      <label className="field">
        <span>Keep the old secret valid for</span>
        <select value={graceSeconds} onChange={(e) => setGraceSeconds(Number(e.target.value))}>
          <option value={24 * 3600}>24 hours</option>
          <option value={3600}>1 hour</option>
          <option value={0}>No grace period (the old secret stops now)</option>
        </select>
      </label>
      {error !== null && <ErrorNotice error={error} compact />}
      <div className="row-end">
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="btn btn-primary"
          onClick={async () => {
            try {
              const rotated = await rest.call('rotateWebhookSecret', { params: { id: subscription.id }, body: { graceSeconds } });
              onRotated(rotated.secret);
            } catch (err) {
              setError(err);
            }
          }}
        >
          Rotate secret
        </button>
      </div>
    </Dialog>
  );
}
