import { type Bot, type BotDelivery, DEFAULT_ESCALATION_PHRASES } from '@parley/protocol';
import { type FormEvent, useMemo, useState } from 'react';
import { useWorkspace } from '../../../app/context.ts';
import { href, navigate } from '../../../app/router.ts';
import { type FlowDraft, issuesBelow, starterFlow, toDefinition } from '../../../lib/flow-draft.ts';
import { ErrorNotice, Loading } from '../../../ui/feedback.tsx';
import { Icon } from '../../../ui/Icon.tsx';
import { Page } from '../../../ui/Page.tsx';
import { useResource } from '../../../ui/use-resource.ts';
import { FlowEditor } from './FlowEditor.tsx';
import { FlowPreview } from './FlowPreview.tsx';
import { below, SelectField, skillOptionsOf, TextField, TextListField } from './fields.tsx';
import { showSecretsOnList } from './shown-secrets.ts';

interface BotForm {
  name: string;
  delivery: BotDelivery;
  skillIds: string[];
  escalationSkillId: string | null;
  responseTimeoutSeconds: string;
  maxConversations: string;
  escalationPhrases: string[];
  webhookUrl: string;
  enabled: boolean;
  flow: FlowDraft;
}

function formOf(bot: Bot | null): BotForm {
  return {
    name: bot?.name ?? '',
    delivery: bot?.delivery ?? 'flow',
    skillIds: bot?.skillIds ?? [],
    escalationSkillId: bot?.escalationSkillId ?? null,
    responseTimeoutSeconds: String(bot?.responseTimeoutSeconds ?? 15),
    maxConversations: String(bot?.maxConversations ?? 1000),
    escalationPhrases: bot?.escalationPhrases ?? [...DEFAULT_ESCALATION_PHRASES],
    webhookUrl: bot?.webhookUrl ?? '',
    enabled: bot?.enabled ?? true,
    flow: bot?.flow ?? starterFlow(),
  };
}

/** Creates a bot (`botId` null) or edits one; flow bots get the flow editor and its preview beside it. */
export function BotEditPage({ botId }: { botId: string | null }) {
  const workspace = useWorkspace();
  const bot = useResource(() => (botId ? workspace.session.rest.call('getBot', { params: { botId } }) : Promise.resolve(null)), [botId]);
  if (bot.error) {
    return (
      <Page title="Bot">
        <ErrorNotice error={bot.error} onRetry={bot.reload} />
      </Page>
    );
  }
  if (bot.data === undefined) return <Loading />;
  return <BotEditor bot={bot.data} />;
}

function BotEditor({ bot }: { bot: Bot | null }) {
  const workspace = useWorkspace();
  const skills = useResource(() => workspace.session.rest.call('listSkills'), []);
  const [form, setForm] = useState<BotForm>(() => formOf(bot));
  const [error, setError] = useState<unknown>(null);
  const [previewIssues, setPreviewIssues] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const set = <K extends keyof BotForm>(key: K, value: BotForm[K]) => {
    setSaved(false);
    setForm((f) => ({ ...f, [key]: value }));
  };

  const issues = useMemo(() => issuesBelow(error, 'body'), [error]);
  const flowIssues = useMemo(() => ({ ...previewIssues, ...below(issues, 'flow') }), [previewIssues, issues]);
  const definition = useMemo(() => toDefinition(form.flow), [form.flow]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    const common = {
      name: form.name,
      skillIds: form.skillIds,
      escalationSkillId: form.escalationSkillId,
      responseTimeoutSeconds: Number(form.responseTimeoutSeconds),
      maxConversations: Number(form.maxConversations),
      escalationPhrases: form.escalationPhrases,
      webhookUrl: form.delivery === 'webhook' ? form.webhookUrl.trim() || null : null,
      flow: form.delivery === 'flow' ? definition : null,
      enabled: form.enabled,
    };
    try {
      if (bot) {
        const updated = await workspace.session.rest.call('updateBot', { params: { botId: bot.id }, body: common });
        setForm(formOf(updated));
        setSaved(true);
      } else {
        const created = await workspace.session.rest.call('createBot', { body: { ...common, delivery: form.delivery } });
        showSecretsOnList({ name: created.bot.name, secret: created.secret, signingSecret: created.signingSecret });
        navigate('/admin/bots');
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const flow = form.delivery === 'flow';
  const skillList = skills.data?.items ?? [];
  return (
    <Page
      title={bot ? bot.name : 'New bot'}
      description={bot ? undefined : 'A bot answers the conversations of its skills first, and hands them to people when it should.'}
      actions={
        <a
          className="btn"
          href={href('/admin/bots')}
          onClick={(e) => {
            e.preventDefault();
            navigate('/admin/bots');
          }}
        >
          <Icon name="chevronLeft" /> All bots
        </a>
      }
    >
      <div className={flow ? 'bot-layout' : ''}>
        <form className="form bot-form" onSubmit={submit} noValidate aria-label={bot ? `Edit ${bot.name}` : 'New bot'}>
          <section className="card" aria-labelledby="bot-settings-heading">
            <header className="card-header">
              <h2 id="bot-settings-heading">Settings</h2>
            </header>
            <div className="card-body">
              <div className="form-row">
                <TextField label="Name" value={form.name} maxLength={80} required onChange={(v) => set('name', v)} error={issues.name} placeholder="Order helper" />
                {bot ? (
                  <div className="field">
                    <span>Kind</span>
                    <span className="field-static">{form.delivery === 'flow' ? 'Flow (built in)' : form.delivery === 'webhook' ? 'Webhook' : 'WebSocket'}</span>
                  </div>
                ) : (
                  <SelectField
                    label="Kind"
                    value={form.delivery}
                    onChange={(v) => set('delivery', v as BotDelivery)}
                    error={issues.delivery}
                    options={[
                      { value: 'flow', label: 'Flow: built in, configured here' },
                      { value: 'webhook', label: 'Webhook: Parley calls your URL' },
                      { value: 'websocket', label: 'WebSocket: your bot connects' },
                    ]}
                  />
                )}
              </div>
              {form.delivery === 'webhook' && (
                <TextField label="Webhook URL" type="url" mono value={form.webhookUrl} onChange={(v) => set('webhookUrl', v)} error={issues.webhookUrl} placeholder="https://bots.example.com/parley" />
              )}
              <fieldset className={`field${issues.skillIds ? ' field-invalid' : ''}`}>
                <legend>Skills it answers first</legend>
                {skillList.length === 0 && <p className="muted small">{skills.data ? 'No skills yet: create them under Skills & capacity.' : 'Loading skills…'}</p>}
                <div className="scope-grid">
                  {skillList.map((s) => (
                    <label key={s.id} className="checkbox">
                      <input
                        type="checkbox"
                        checked={form.skillIds.includes(s.id)}
                        onChange={(e) => set('skillIds', e.target.checked ? [...form.skillIds, s.id] : form.skillIds.filter((x) => x !== s.id))}
                      />
                      {s.name}
                    </label>
                  ))}
                </div>
                {issues.skillIds && <span className="field-error">{issues.skillIds}</span>}
              </fieldset>
              <div className="form-row">
                <SelectField
                  label="Escalation skill"
                  value={form.escalationSkillId ?? ''}
                  options={skillOptionsOf(skillList, "The conversation's skill")}
                  onChange={(v) => set('escalationSkillId', v || null)}
                  error={issues.escalationSkillId}
                />
                <TextField
                  label="Answer within (seconds)"
                  type="number"
                  value={form.responseTimeoutSeconds}
                  onChange={(v) => set('responseTimeoutSeconds', v)}
                  error={issues.responseTimeoutSeconds}
                  hint="Then a person takes over."
                />
                <TextField label="Conversations at once" type="number" value={form.maxConversations} onChange={(v) => set('maxConversations', v)} error={issues.maxConversations} />
              </div>
              <TextListField
                label="Escalation phrases (the consumer writes one: a person takes over, whatever the bot)"
                itemName="escalation phrase"
                items={form.escalationPhrases}
                onChange={(v) => set('escalationPhrases', v)}
                errors={below(issues, 'escalationPhrases')}
                maxLength={100}
                max={50}
                placeholder="e.g. speak to a human"
              />
              <label className="checkbox">
                <input type="checkbox" checked={form.enabled} onChange={(e) => set('enabled', e.target.checked)} />
                Enabled: routing gives it conversations
              </label>
            </div>
          </section>
          {flow && <FlowEditor draft={form.flow} onChange={(draft) => set('flow', draft)} issues={flowIssues} skills={skillList} />}
          <div className="form-footer">
            {error !== null && <ErrorNotice error={error} compact />}
            {saved && (
              <p className="notice notice-success notice-compact" role="status">
                Saved. New conversations use it at once.
              </p>
            )}
            <div className="row-end">
              <button type="button" className="btn" onClick={() => navigate('/admin/bots')}>
                Cancel
              </button>
              <button type="submit" className="btn btn-primary" disabled={busy}>
                {bot ? 'Save changes' : 'Create bot'}
              </button>
            </div>
          </div>
        </form>
        {flow && (
          <aside className="bot-preview-column" aria-label="Try the flow">
            <FlowPreview definition={definition} skills={skillList} onIssues={setPreviewIssues} />
          </aside>
        )}
      </div>
    </Page>
  );
}
