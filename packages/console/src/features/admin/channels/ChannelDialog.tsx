import type { ChannelConfig, ChannelKind, EndpointResponse } from '@parley/protocol';
import { type FormEvent, useMemo, useState } from 'react';
import { useWorkspace } from '../../../app/context.ts';
import {
  CHANNEL_KIND_ORDER,
  CHANNEL_KINDS,
  type ChannelFormState,
  channelFormOf,
  createChannelBody,
  credentialsState,
  emptyChannelForm,
  generateVerifyToken,
  updateChannelBody,
} from '../../../lib/channel-form.ts';
import { Dialog } from '../../../ui/Dialog.tsx';
import { ErrorNotice } from '../../../ui/feedback.tsx';
import { Icon } from '../../../ui/Icon.tsx';
import { InputField, issuesOf, KIND_ICONS } from './channel-fields.tsx';

export type CreatedChannel = EndpointResponse<'createChannel'>;

/** Creating a channel (kind, then its settings and credentials) or editing one (credentials left empty keep the stored ones). */
export function ChannelDialog({
  channel,
  skills,
  onClose,
  onCreated,
  onSaved,
}: {
  channel: ChannelConfig | null;
  skills: { id: string; name: string }[];
  onClose: () => void;
  onCreated: (created: CreatedChannel) => void;
  onSaved: () => void;
}) {
  const rest = useWorkspace().session.rest;
  const editing = channel !== null;
  const [form, setForm] = useState<ChannelFormState>(() => (channel ? channelFormOf(channel) : emptyChannelForm('sms')));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const issues = useMemo(() => issuesOf(error), [error]);
  const spec = CHANNEL_KINDS[form.kind];
  const creds = credentialsState(form);

  const set = <K extends keyof ChannelFormState>(key: K, value: ChannelFormState[K]) => setForm((f) => ({ ...f, [key]: value }));
  const setSetting = (key: string, value: string) => setForm((f) => ({ ...f, settings: { ...f.settings, [key]: value } }));
  const setCredential = (key: string, value: string) => setForm((f) => ({ ...f, credentials: { ...f.credentials, [key]: value } }));
  const chooseKind = (kind: ChannelKind) => {
    setError(null);
    setForm((f) => ({ ...emptyChannelForm(kind), name: f.name, defaultSkillId: f.defaultSkillId, apiBaseUrl: f.apiBaseUrl }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (channel) {
        const body = updateChannelBody(channel, form);
        if (Object.keys(body).length > 0) await rest.call('updateChannel', { params: { channelId: channel.id }, body });
        onSaved();
      } else {
        const created = await rest.call('createChannel', { body: createChannelBody(form) });
        onCreated(created);
      }
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  // Editing, credentials are replaced whole: once one field is typed, every field of the kind is needed.
  const credentialRequired = !editing || creds !== 'keep';
  const credentialHint = (hint: string | undefined) => (editing ? 'Stored encrypted; leave empty to keep.' : hint);

  return (
    <Dialog title={channel ? `Edit ${channel.name}` : 'Add a channel'} onClose={onClose} wide>
      <form className="form channel-form" onSubmit={submit} aria-label={channel ? 'Edit channel' : 'New channel'}>
        {!editing && (
          <fieldset className="field">
            <legend>Kind</legend>
            <div className="kind-picker">
              {CHANNEL_KIND_ORDER.map((kind) => (
                <label key={kind} className={`kind-option${form.kind === kind ? ' kind-option-selected' : ''}`}>
                  <input type="radio" name="channel-kind" value={kind} checked={form.kind === kind} onChange={() => chooseKind(kind)} />
                  <span className="kind-option-icon" aria-hidden="true">
                    <Icon name={KIND_ICONS[kind]} size={18} />
                  </span>
                  <span className="kind-option-text">
                    <span className="kind-option-label">{CHANNEL_KINDS[kind].label}</span>
                    <span className="muted small">{CHANNEL_KINDS[kind].blurb}</span>
                  </span>
                </label>
              ))}
            </div>
          </fieldset>
        )}

        <InputField label="Name" value={form.name} required maxLength={80} onChange={(v) => set('name', v)} error={issues.name} placeholder={`${spec.label} support`} />

        {spec.settings.length > 0 && (
          <fieldset className="field form-section">
            <legend>{spec.label} settings</legend>
            <div className="form-row">
              {spec.settings.map((f) => (
                <InputField
                  key={`${form.kind}-${f.key}`}
                  label={f.label}
                  value={form.settings[f.key] ?? ''}
                  required
                  mono
                  type={form.kind === 'connector' ? 'url' : 'text'}
                  placeholder={f.placeholder}
                  hint={f.hint}
                  error={issues[`settings.${f.key}`]}
                  onChange={(v) => setSetting(f.key, v)}
                />
              ))}
            </div>
          </fieldset>
        )}

        {spec.credentials.length > 0 ? (
          <fieldset className="field form-section">
            <legend>Credentials</legend>
            <p className="muted small">
              <Icon name="lock" size={12} /> Stored encrypted and never shown again after saving.
              {editing && creds === 'partial' && ' To replace them, fill in every field: they are replaced together.'}
            </p>
            {spec.credentials.map((f) => (
              <InputField
                key={`${form.kind}-${f.key}`}
                label={f.label}
                value={form.credentials[f.key] ?? ''}
                required={credentialRequired}
                type={f.generated ? 'text' : 'password'}
                autoComplete={f.generated ? 'off' : 'new-password'}
                mono
                placeholder={editing ? '••••••••' : undefined}
                hint={f.generated && !editing ? f.hint : credentialHint(f.hint)}
                error={issues[`credentials.${f.key}`]}
                onChange={(v) => setCredential(f.key, v)}
                after={
                  f.generated ? (
                    <button type="button" className="btn btn-small" onClick={() => setCredential(f.key, generateVerifyToken())}>
                      Generate
                    </button>
                  ) : undefined
                }
              />
            ))}
          </fieldset>
        ) : (
          !editing && <p className="muted small">Parley generates the connector secret that signs what the partner and Parley send each other; it is shown once, after saving.</p>
        )}

        <div className="form-row">
          <div className="field">
            <label htmlFor="channel-default-skill">Default skill</label>
            <select id="channel-default-skill" value={form.defaultSkillId} onChange={(e) => set('defaultSkillId', e.target.value)} aria-describedby="channel-default-skill-hint">
              <option value="">The account's default skill</option>
              {skills.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
            <span id="channel-default-skill-hint" className="muted small">
              The queue a conversation started on this channel enters.
            </span>
            {issues.defaultSkillId && <span className="field-error">{issues.defaultSkillId}</span>}
          </div>
        </div>

        {form.kind === 'sms' && (
          <div className={`field${issues.greeting ? ' field-invalid' : ''}`}>
            <label htmlFor="channel-greeting">Greeting</label>
            <textarea
              id="channel-greeting"
              rows={2}
              maxLength={1600}
              value={form.greeting}
              placeholder="Thanks for calling! Reply here and we will help you by text."
              aria-describedby="channel-greeting-hint"
              onChange={(e) => set('greeting', e.target.value)}
            />
            <span id="channel-greeting-hint" className="muted small">
              What IVR deflection texts a caller first when the voice platform gives no message.
            </span>
            {issues.greeting && <span className="field-error">{issues.greeting}</span>}
          </div>
        )}

        <details className="advanced" open={editing && form.apiBaseUrl !== '' ? true : undefined}>
          <summary>Advanced</summary>
          <InputField
            label="API base URL"
            type="url"
            mono
            value={form.apiBaseUrl}
            onChange={(v) => set('apiBaseUrl', v)}
            error={issues.apiBaseUrl}
            placeholder="The provider's public API"
            hint="For a simulator or a regional endpoint; leave empty for the provider's public API."
          />
        </details>

        {error !== null && <ErrorNotice error={error} compact />}
        <div className="row-end">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy || (editing && creds === 'partial')}>
            {editing ? 'Save' : 'Add channel'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
