import type { Bot, BotDelivery, EscalationReason } from '@parley/protocol';
import { Fragment, useState } from 'react';
import { useWorkspace } from '../../../app/context.ts';
import { href, navigate } from '../../../app/router.ts';
import { Dialog } from '../../../ui/Dialog.tsx';
import { Async, Empty, ErrorNotice } from '../../../ui/feedback.tsx';
import { Icon } from '../../../ui/Icon.tsx';
import { Page } from '../../../ui/Page.tsx';
import { useResource } from '../../../ui/use-resource.ts';
import { CopyButton } from '../CopyButton.tsx';
import { BotEditPage } from './BotEditPage.tsx';
import { type ShownSecrets, takeShownSecrets } from './shown-secrets.ts';

export const DELIVERY_LABELS: Record<BotDelivery, string> = { flow: 'Flow (built in)', webhook: 'Webhook', websocket: 'WebSocket' };

const REASON_LABELS: Record<EscalationReason, string> = {
  bot_requested: 'the bot handed over',
  consumer_requested: 'the consumer asked for a person',
  bot_timeout: 'the bot did not answer in time',
  bot_error: "the bot's endpoint failed",
};

/** /admin/bots, /admin/bots/new and /admin/bots/<id>. */
export function BotsRoute({ path }: { path: string }) {
  const rest = path.slice('/admin/bots'.length).replace(/^\//, '');
  if (rest === '') return <BotsPage />;
  return <BotEditPage key={rest} botId={rest === 'new' ? null : rest} />;
}

export function BotsPage() {
  const workspace = useWorkspace();
  const bots = useResource(() => workspace.session.rest.call('listBots'), []);
  const skills = useResource(() => workspace.session.rest.call('listSkills'), []);
  const [secrets, setSecrets] = useState<ShownSecrets | null>(takeShownSecrets);
  const [rotating, setRotating] = useState<Bot | null>(null);
  const [error, setError] = useState<unknown>(null);
  const skillName = (id: string) => skills.data?.items.find((s) => s.id === id)?.name ?? id.slice(0, 6);

  const setEnabled = async (bot: Bot, enabled: boolean) => {
    setError(null);
    try {
      await workspace.session.rest.call('updateBot', { params: { botId: bot.id }, body: { enabled } });
      bots.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <Page
      title="Bots"
      description="Bots answer the conversations of their skills before people do, and hand over when they should."
      actions={
        <a
          className="btn btn-primary"
          href={href('/admin/bots/new')}
          onClick={(e) => {
            e.preventDefault();
            navigate('/admin/bots/new');
          }}
        >
          <Icon name="plus" /> New bot
        </a>
      }
    >
      {secrets && <SecretsBox secrets={secrets} onHide={() => setSecrets(null)} />}
      {error !== null && <ErrorNotice error={error} />}
      <div className="stack">
        <Async
          state={bots}
          empty={(d) =>
            d.items.length === 0 ? (
              <Empty title="No bots yet" icon="zap">
                <p>Create a flow bot in a few minutes, or connect your own bot by WebSocket or webhook.</p>
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
                    <th scope="col">Kind</th>
                    <th scope="col">Skills</th>
                    <th scope="col">Status</th>
                    <th scope="col">Secret</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((bot) => (
                    <tr key={bot.id} className={bot.enabled ? '' : 'row-muted'}>
                      <td>
                        <a
                          href={href(`/admin/bots/${bot.id}`)}
                          onClick={(e) => {
                            e.preventDefault();
                            navigate(`/admin/bots/${bot.id}`);
                          }}
                        >
                          {bot.name}
                        </a>
                      </td>
                      <td>{DELIVERY_LABELS[bot.delivery]}</td>
                      <td>
                        <span className="chips">
                          {bot.skillIds.length === 0 ? (
                            <span className="muted">none</span>
                          ) : (
                            bot.skillIds.map((id) => (
                              <span key={id} className="chip">
                                {skillName(id)}
                              </span>
                            ))
                          )}
                        </span>
                      </td>
                      <td>{bot.enabled ? <span className="chip chip-ok">enabled</span> : <span className="chip">disabled</span>}</td>
                      <td>
                        <code>{bot.secretPrefix}…</code>
                      </td>
                      <td className="cell-actions">
                        <span className="row-end">
                          <button type="button" className="btn btn-small" onClick={() => void setEnabled(bot, !bot.enabled)} aria-label={`${bot.enabled ? 'Disable' : 'Enable'} ${bot.name}`}>
                            {bot.enabled ? 'Disable' : 'Enable'}
                          </button>
                          <button type="button" className="btn btn-small" onClick={() => setRotating(bot)} aria-label={`Rotate the secrets of ${bot.name}`}>
                            <Icon name="key" size={14} /> Rotate
                          </button>
                          <button type="button" className="btn-icon" aria-label={`Edit ${bot.name}`} onClick={() => navigate(`/admin/bots/${bot.id}`)}>
                            <Icon name="edit" />
                          </button>
                        </span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Async>
        <BotMetricsCard bots={bots.data?.items ?? []} />
      </div>
      {rotating && (
        <Dialog title="Rotate the bot's secrets" onClose={() => setRotating(null)}>
          <p>
            Replace the secret and the signing secret of <strong>{rotating.name}</strong>? The old ones stop working at once: update the bot before it reconnects.
          </p>
          <div className="row-end">
            <button type="button" className="btn" onClick={() => setRotating(null)}>
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-danger"
              onClick={async () => {
                const bot = rotating;
                setRotating(null);
                setError(null);
                try {
                  const rotated = await workspace.session.rest.call('rotateBotSecrets', { params: { botId: bot.id } });
                  setSecrets({ name: bot.name, ...rotated });
                  bots.reload();
                } catch (err) {
                  setError(err);
                }
              }}
            >
              Rotate secrets
            </button>
          </div>
        </Dialog>
      )}
    </Page>
  );
}

function SecretsBox({ secrets, onHide }: { secrets: ShownSecrets; onHide: () => void }) {
  return (
    <div className="notice notice-success secret-box" role="status">
      <div>
        <p>
          <strong>{secrets.name}</strong>: copy the secrets now, they are shown only once.
        </p>
        <div className="secret-row">
          <span className="secret-label">Secret</span>
          <code className="secret" data-testid="bot-secret">
            {secrets.secret}
          </code>
          <CopyButton text={secrets.secret} label="Copy secret" />
        </div>
        <div className="secret-row">
          <span className="secret-label">Signing secret</span>
          <code className="secret" data-testid="bot-signing-secret">
            {secrets.signingSecret}
          </code>
          <CopyButton text={secrets.signingSecret} label="Copy signing secret" />
        </div>
      </div>
      <button type="button" className="btn-icon" aria-label="Hide the secrets" onClick={onHide}>
        <Icon name="close" />
      </button>
    </div>
  );
}

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

/** Handled, escalated (by reason) and contained over the last 7 days, for every bot or one. */
function BotMetricsCard({ bots }: { bots: Bot[] }) {
  const workspace = useWorkspace();
  const [botId, setBotId] = useState('');
  const metrics = useResource(() => {
    const to = new Date();
    const from = new Date(to.getTime() - WEEK_MS);
    return workspace.session.rest.call('getBotMetrics', { query: { from: from.toISOString(), to: to.toISOString(), ...(botId ? { botId } : {}) } });
  }, [botId]);
  return (
    <section className="card" aria-labelledby="bot-metrics-heading">
      <header className="card-header">
        <h2 id="bot-metrics-heading">Last 7 days</h2>
        <label className="inline-select">
          <span className="sr-only">Bot</span>
          <select value={botId} onChange={(e) => setBotId(e.target.value)}>
            <option value="">All bots</option>
            {bots.map((b) => (
              <option key={b.id} value={b.id}>
                {b.name}
              </option>
            ))}
          </select>
        </label>
      </header>
      <div className="card-body">
        <Async state={metrics}>
          {(m) => (
            <>
              <div className="kpis">
                <Kpi label="Conversations handled" value={String(m.handled)} />
                <Kpi label="Handed to people" value={String(m.escalated)} />
                <Kpi label="Contained (closed by the bot)" value={String(m.contained)} />
                <Kpi label="Containment rate" value={m.containmentRate === null ? '—' : `${Math.round(m.containmentRate * 100)}%`} />
              </div>
              {m.escalated > 0 && (
                <dl className="facts">
                  {(Object.keys(REASON_LABELS) as EscalationReason[])
                    .filter((reason) => (m.escalatedByReason[reason] ?? 0) > 0)
                    .map((reason) => (
                      <Fragment key={reason}>
                        <dt>{m.escalatedByReason[reason]}</dt>
                        <dd>{REASON_LABELS[reason]}</dd>
                      </Fragment>
                    ))}
                </dl>
              )}
              {m.open > 0 && <p className="muted small">{m.open} still with a bot.</p>}
            </>
          )}
        </Async>
      </div>
    </section>
  );
}

function Kpi({ label, value }: { label: string; value: string }) {
  return (
    <div className="kpi">
      <span className="kpi-value">{value}</span>
      <span className="kpi-label">{label}</span>
    </div>
  );
}
