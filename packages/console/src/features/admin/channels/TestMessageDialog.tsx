import type { ChannelConfig } from '@parley/protocol';
import { ParleyApiError } from '@parley/sdk';
import { type FormEvent, useMemo, useState } from 'react';
import { useWorkspace } from '../../../app/context.ts';
import { CHANNEL_KINDS } from '../../../lib/channel-form.ts';
import { Dialog } from '../../../ui/Dialog.tsx';
import { ErrorNotice } from '../../../ui/feedback.tsx';
import { Icon } from '../../../ui/Icon.tsx';
import { InputField, issuesOf } from './channel-fields.tsx';

type Outcome = { ok: true; providerMessageId: string } | { ok: false; error: unknown };

/** Sends a message through the channel to check its settings and credentials: the provider's id, or its refusal. */
export function TestMessageDialog({ channel, onClose }: { channel: ChannelConfig; onClose: () => void }) {
  const rest = useWorkspace().session.rest;
  const spec = CHANNEL_KINDS[channel.kind];
  const [to, setTo] = useState('');
  const [text, setText] = useState('This is a test message from Parley.');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const issues = useMemo(() => (outcome && !outcome.ok ? issuesOf(outcome.error) : {}), [outcome]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setOutcome(null);
    try {
      const result = await rest.call('sendTestChannelMessage', { params: { channelId: channel.id }, body: { to: to.trim(), text } });
      setOutcome({ ok: true, providerMessageId: result.providerMessageId });
    } catch (error) {
      setOutcome({ ok: false, error });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Send a test message: ${channel.name}`} onClose={onClose}>
      <form className="form" onSubmit={submit} aria-label="Test message">
        <InputField label={spec.testTo.label} value={to} required mono placeholder={spec.testTo.placeholder} onChange={setTo} error={issues.to} />
        <div className={`field${issues.text ? ' field-invalid' : ''}`}>
          <label htmlFor="test-message-text">Text</label>
          <textarea id="test-message-text" rows={3} maxLength={1600} required value={text} onChange={(e) => setText(e.target.value)} />
          {issues.text && <span className="field-error">{issues.text}</span>}
        </div>
        {outcome?.ok && (
          <div className="notice notice-success" role="status">
            <Icon name="check" />
            <div>
              <div>The provider accepted the message.</div>
              <div className="notice-meta">
                Provider message id <code data-testid="provider-message-id">{outcome.providerMessageId}</code>
              </div>
            </div>
          </div>
        )}
        {outcome && !outcome.ok && <ProviderRefusal error={outcome.error} />}
        <div className="row-end">
          <button type="button" className="btn" onClick={onClose}>
            Done
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy || to.trim() === '' || text.trim() === ''}>
            <Icon name="send" /> {busy ? 'Sending…' : 'Send test message'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** CHANNEL_DELIVERY_FAILED with the provider's own code; any other error as usual. */
function ProviderRefusal({ error }: { error: unknown }) {
  if (!(error instanceof ParleyApiError) || error.code !== 'CHANNEL_DELIVERY_FAILED') return <ErrorNotice error={error} compact />;
  const providerCode = error.details?.providerCode;
  const retryable = error.details?.retryable === true;
  return (
    <div className="notice notice-error notice-compact" role="alert">
      <Icon name="alert" />
      <div>
        <div>{error.message}</div>
        <div className="notice-meta">
          {providerCode !== undefined && providerCode !== null && (
            <span>
              Provider code <code data-testid="provider-code">{String(providerCode)}</code>
            </span>
          )}
          {retryable && <span> · temporary: try again later</span>}
          {error.requestId && <span> · request {error.requestId}</span>}
        </div>
      </div>
    </div>
  );
}
