import type { ChannelConfig } from '@parley/protocol';
import { useState } from 'react';
import { useWorkspace } from '../../../app/context.ts';
import { CHANNEL_KINDS, channelAddress, webhookUrlOf } from '../../../lib/channel-form.ts';
import { Dialog } from '../../../ui/Dialog.tsx';
import { Async, Empty, ErrorNotice } from '../../../ui/feedback.tsx';
import { Icon } from '../../../ui/Icon.tsx';
import { Page } from '../../../ui/Page.tsx';
import { useResource } from '../../../ui/use-resource.ts';
import { CopyButton } from '../CopyButton.tsx';
import { ChannelDialog, type CreatedChannel } from './ChannelDialog.tsx';
import { ChannelKindLabel } from './channel-fields.tsx';
import { TestMessageDialog } from './TestMessageDialog.tsx';

type Open = { kind: 'create' } | { kind: 'edit'; channel: ChannelConfig } | { kind: 'test'; channel: ChannelConfig } | { kind: 'delete'; channel: ChannelConfig };

/** What was just created, shown once: where the provider must send webhooks, and a connector's secret. */
interface JustCreated {
  channel: ChannelConfig;
  connectorSecret: string | null;
}

const WHERE_TO_SET: Record<ChannelConfig['kind'], string> = {
  sms: 'Set this URL as the Twilio number\'s "A message comes in" webhook',
  messenger: "Set this URL as the callback URL of the app's Messenger webhook at Meta, with the verify token you chose",
  whatsapp: "Set this URL as the callback URL of the app's WhatsApp webhook at Meta, with the verify token you chose",
  connector: 'Give the partner this URL: it POSTs inbound messages to it',
};

/** Admins: SMS, Messenger, WhatsApp and Connector API channels, with the webhook URL to give each provider. */
export function ChannelsPage() {
  const rest = useWorkspace().session.rest;
  const channels = useResource(() => rest.call('listChannels'), []);
  const skills = useResource(() => rest.call('listSkills'), []);
  const [open, setOpen] = useState<Open | null>(null);
  const [created, setCreated] = useState<JustCreated | null>(null);
  const [error, setError] = useState<unknown>(null);
  const origin = window.location.origin;
  const skillName = (id: string | null) => (id ? (skills.data?.items.find((s) => s.id === id)?.name ?? 'Unknown skill') : null);

  const act = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      channels.reload();
    } catch (err) {
      setError(err);
    }
  };

  const onCreated = (result: CreatedChannel) => {
    setOpen(null);
    setCreated({ channel: result.channel, connectorSecret: result.connectorSecret });
    channels.reload();
  };

  return (
    <Page
      title="Channels"
      description="Conversations by SMS, Messenger and WhatsApp arrive in the same inbox as the widget's. Give each provider its channel's webhook URL."
      actions={
        <button type="button" className="btn btn-primary" onClick={() => setOpen({ kind: 'create' })}>
          <Icon name="plus" /> Add channel
        </button>
      }
    >
      {created && (
        <div className="notice notice-success secret-box" role="status">
          <div>
            <p>
              <strong>{created.channel.name}</strong> is set up. {WHERE_TO_SET[created.channel.kind]}:
            </p>
            <div className="secret-row">
              <code className="secret">{webhookUrlOf(origin, created.channel)}</code>
              <CopyButton text={webhookUrlOf(origin, created.channel)} label="Copy URL" />
            </div>
            {created.connectorSecret && (
              <>
                <p className="secret-label">Connector secret: it signs what the partner and Parley send each other. Copy it now: it is shown only once.</p>
                <div className="secret-row">
                  <code className="secret" data-testid="connector-secret">
                    {created.connectorSecret}
                  </code>
                  <CopyButton text={created.connectorSecret} label="Copy secret" />
                </div>
              </>
            )}
          </div>
          <button type="button" className="btn-icon" aria-label="Hide this notice" onClick={() => setCreated(null)}>
            <Icon name="close" />
          </button>
        </div>
      )}
      {error !== null && <ErrorNotice error={error} />}
      <Async
        state={channels}
        empty={(d) =>
          d.items.length === 0 ? (
            <Empty title="No channels yet" icon="smartphone">
              <p>Add an SMS number, a Facebook Page or a WhatsApp number, and its conversations come to the inbox.</p>
            </Empty>
          ) : null
        }
      >
        {(data) => (
          <div className="card">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Channel</th>
                  <th scope="col">Address</th>
                  <th scope="col">Default skill</th>
                  <th scope="col">Webhook URL</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((c) => {
                  const address = channelAddress(c.settings);
                  const url = webhookUrlOf(origin, c);
                  return (
                    <tr key={c.id} className={c.enabled ? '' : 'row-muted'}>
                      <td>
                        <div className="channel-name">{c.name}</div>
                        <div className="channel-meta">
                          <ChannelKindLabel kind={c.kind} />
                          {c.enabled ? <span className="chip chip-ok">enabled</span> : <span className="chip">disabled</span>}
                        </div>
                      </td>
                      <td className="channel-address">
                        <span className="muted small">{address.label}</span> <code>{address.value}</code>
                        {c.apiBaseUrl && (
                          <div className="muted small" title="API base URL">
                            via <code>{c.apiBaseUrl}</code>
                          </div>
                        )}
                      </td>
                      <td>{skillName(c.defaultSkillId) ?? <span className="muted">Account default</span>}</td>
                      <td>
                        <div className="webhook-cell">
                          <code className="webhook-url">{url}</code>
                          <CopyButton text={url} label="Copy URL" />
                        </div>
                      </td>
                      <td className="cell-actions">
                        <div className="row-actions">
                          <button
                            type="button"
                            className="btn btn-small"
                            onClick={() => setOpen({ kind: 'test', channel: c })}
                            disabled={!c.enabled}
                            title={c.enabled ? undefined : 'Enable the channel first'}
                          >
                            <Icon name="send" size={14} /> Test message
                          </button>
                          <button type="button" className="btn btn-small" onClick={() => act(() => rest.call('updateChannel', { params: { channelId: c.id }, body: { enabled: !c.enabled } }))}>
                            {c.enabled ? 'Disable' : 'Enable'}
                          </button>
                          <button
                            type="button"
                            className="btn-icon"
                            aria-label={`Edit ${c.name}`}
                            title="Edit"
                            onClick={() => {
                              setCreated(null);
                              setOpen({ kind: 'edit', channel: c });
                            }}
                          >
                            <Icon name="edit" />
                          </button>
                          <button type="button" className="btn-icon" aria-label={`Delete ${c.name}`} title="Delete" onClick={() => setOpen({ kind: 'delete', channel: c })}>
                            <Icon name="trash" />
                          </button>
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Async>
      {(open?.kind === 'create' || open?.kind === 'edit') && (
        <ChannelDialog
          channel={open.kind === 'edit' ? open.channel : null}
          skills={skills.data?.items ?? []}
          onClose={() => setOpen(null)}
          onCreated={onCreated}
          onSaved={() => {
            setOpen(null);
            channels.reload();
          }}
        />
      )}
      {open?.kind === 'test' && <TestMessageDialog channel={open.channel} onClose={() => setOpen(null)} />}
      {open?.kind === 'delete' && (
        <Dialog title="Delete channel" onClose={() => setOpen(null)}>
          <p>
            Delete <strong>{open.channel.name}</strong>? Webhooks from {CHANNEL_KINDS[open.channel.kind].label === 'Connector API' ? 'the partner' : 'the provider'} are refused from then on; its
            conversations stay.
          </p>
          <div className="row-end">
            <button type="button" className="btn" onClick={() => setOpen(null)}>
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-danger"
              onClick={async () => {
                const id = open.channel.id;
                setOpen(null);
                if (created?.channel.id === id) setCreated(null);
                await act(() => rest.call('deleteChannel', { params: { channelId: id } }));
              }}
            >
              Delete channel
            </button>
          </div>
        </Dialog>
      )}
    </Page>
  );
}
