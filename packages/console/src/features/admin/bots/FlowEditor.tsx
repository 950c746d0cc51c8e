import type { FlowChoice, FlowField, FlowIntent, FlowReply, Skill } from '@parley/protocol';
import { useEffect, useState } from 'react';
import { type FlowDraft, intentIdFrom, newField, newIntent, removeIntent, renameIntent } from '../../../lib/flow-draft.ts';
import { Icon } from '../../../ui/Icon.tsx';
import { below, SelectField, TextField, TextListField } from './fields.tsx';

type Issues = Record<string, string>;

/**
 * The flow bot's definition, edited in place: greeting, intents (phrases, answer, quick replies, fields, what comes
 * after), fallback, escalation and closing text. `issues` are the API's validation messages keyed by path below the
 * definition (`intents.0.name`); each shows at its field.
 */
export function FlowEditor({ draft, onChange, issues, skills }: { draft: FlowDraft; onChange: (draft: FlowDraft) => void; issues: Issues; skills: Skill[] }) {
  const [open, setOpen] = useState<Set<string>>(() => new Set(draft.intents.length <= 3 ? draft.intents.map((i) => i.id) : []));
  // An intent with a validation message opens, so the message is seen.
  useEffect(() => {
    const withIssues = draft.intents.filter((_, i) => Object.keys(below(issues, `intents.${i}`)).length > 0).map((i) => i.id);
    if (withIssues.length) setOpen((current) => new Set([...current, ...withIssues]));
  }, [issues, draft.intents]);

  const setIntent = (index: number, intent: FlowIntent) => onChange({ ...draft, intents: draft.intents.map((x, i) => (i === index ? intent : x)) });
  const skillOptions = (none: string) => [{ value: '', label: none }, ...skills.map((s) => ({ value: s.id, label: s.name }))];

  return (
    <div className="stack flow-editor">
      <section className="card" aria-labelledby="greeting-heading">
        <header className="card-header">
          <h2 id="greeting-heading">Greeting</h2>
        </header>
        <div className="card-body">
          <ReplyEditor label="Greeting" reply={draft.greeting} onChange={(greeting) => onChange({ ...draft, greeting })} intents={draft.intents} issues={below(issues, 'greeting')} />
        </div>
      </section>

      <section className="card" aria-labelledby="intents-heading">
        <header className="card-header">
          <h2 id="intents-heading">Intents</h2>
          <button
            type="button"
            className="btn btn-small"
            disabled={draft.intents.length >= 100}
            onClick={() => {
              const intent = newIntent(draft);
              setOpen(new Set([...open, intent.id]));
              onChange({ ...draft, intents: [...draft.intents, intent] });
            }}
          >
            <Icon name="plus" size={14} /> Add intent
          </button>
        </header>
        <div className="card-body">
          {draft.intents.length === 0 && <p className="muted small">No intents yet. An intent recognises what the consumer wants from phrases, and answers.</p>}
          {draft.intents.map((intent, index) => (
            <details
              // The index, not the id: the id is edited in the form.
              // biome-ignore lint/suspicious/noArrayIndexKey: intents have no other stable key while their id is typed
              key={index}
              className="intent"
              open={open.has(intent.id)}
              onToggle={(e) => {
                const isOpen = (e.currentTarget as HTMLDetailsElement).open;
                if (isOpen === open.has(intent.id)) return;
                const next = new Set(open);
                if (isOpen) next.add(intent.id);
                else next.delete(intent.id);
                setOpen(next);
              }}
            >
              <summary>
                <span className="intent-name">{intent.name || 'Unnamed intent'}</span>
                <code className="muted">{intent.id}</code>
                <span className="muted small">
                  {intent.phrases.length} phrase{intent.phrases.length === 1 ? '' : 's'}
                  {intent.collect.length > 0 && ` · collects ${intent.collect.map((f) => f.field).join(', ')}`}
                  {intent.after !== 'continue' && ` · then ${intent.after}`}
                </span>
                {Object.keys(below(issues, `intents.${index}`)).length > 0 && <span className="chip chip-danger">needs a fix</span>}
              </summary>
              <IntentEditor
                intent={intent}
                draft={draft}
                issues={below(issues, `intents.${index}`)}
                skillOptions={skillOptions("The bot's escalation skill")}
                onChange={(next) => {
                  if (next.id === intent.id) return setIntent(index, next);
                  // A new id: the quick replies that led to the old one follow it.
                  setOpen(new Set([...open, next.id]));
                  const updated = { ...draft, intents: draft.intents.map((x, i) => (i === index ? { ...next, id: intent.id } : x)) };
                  onChange(renameIntent(updated, index, next.id));
                }}
                onRemove={() => onChange(removeIntent(draft, intent.id))}
              />
            </details>
          ))}
        </div>
      </section>

      <section className="card" aria-labelledby="fallback-heading">
        <header className="card-header">
          <h2 id="fallback-heading">When nothing is recognised</h2>
        </header>
        <div className="card-body">
          <TextField label="Fallback text" multiline value={draft.fallback.text} onChange={(text) => onChange({ ...draft, fallback: { ...draft.fallback, text } })} error={issues['fallback.text']} />
          <TextField
            label="Hand over to a person after this many unrecognised messages in a row"
            type="number"
            value={String(draft.fallback.escalateAfter)}
            onChange={(v) => onChange({ ...draft, fallback: { ...draft.fallback, escalateAfter: Number(v) } })}
            error={issues['fallback.escalateAfter']}
            hint="1 to 10. A field answer that does not fit counts too."
          />
        </div>
      </section>

      <section className="card" aria-labelledby="escalation-heading">
        <header className="card-header">
          <h2 id="escalation-heading">Handing over and closing</h2>
        </header>
        <div className="card-body">
          <TextField
            label="Said before a person takes over"
            multiline
            value={draft.escalation.text}
            onChange={(text) => onChange({ ...draft, escalation: { ...draft.escalation, text } })}
            error={issues['escalation.text']}
          />
          <SelectField
            label="Hand over to"
            value={draft.escalation.skillId ?? ''}
            options={skillOptions("The bot's escalation skill")}
            onChange={(v) => onChange({ ...draft, escalation: { ...draft.escalation, skillId: v || null } })}
            error={issues['escalation.skillId']}
          />
          <TextField
            label="Closing text (said before the bot closes a conversation; optional)"
            multiline
            value={draft.closingText ?? ''}
            onChange={(closingText) => onChange({ ...draft, closingText })}
            error={issues.closingText}
          />
        </div>
      </section>
    </div>
  );
}

function IntentEditor({
  intent,
  draft,
  issues,
  skillOptions,
  onChange,
  onRemove,
}: {
  intent: FlowIntent;
  draft: FlowDraft;
  issues: Issues;
  skillOptions: { value: string; label: string }[];
  /** A changed id renames the intent (its quick replies follow). */
  onChange: (intent: FlowIntent) => void;
  onRemove: () => void;
}) {
  const others = draft.intents.filter((i) => i !== intent).map((i) => i.id);
  const setField = (index: number, field: FlowField) => onChange({ ...intent, collect: intent.collect.map((f, i) => (i === index ? field : f)) });
  return (
    <div className="intent-body">
      <div className="form-row">
        <TextField
          label="Name"
          value={intent.name}
          maxLength={80}
          onChange={(name) => {
            // The id follows the name until it is edited by hand.
            const follows = intent.id === intentIdFrom(intent.name, others) || /^new_intent(_\d+)?$/.test(intent.id);
            onChange({ ...intent, name, id: follows && name.trim() ? intentIdFrom(name, others) : intent.id });
          }}
          error={issues.name}
        />
        <IdField id={intent.id} taken={others} onChange={(id) => onChange({ ...intent, id })} error={issues.id} />
      </div>
      <TextListField
        label="Phrases that recognise it"
        itemName="phrase"
        items={intent.phrases}
        onChange={(phrases) => onChange({ ...intent, phrases })}
        errors={below(issues, 'phrases')}
        placeholder="e.g. where is my order"
        maxLength={200}
        max={50}
      />
      <ReplyEditor label="Answer" reply={intent.answer} onChange={(answer) => onChange({ ...intent, answer })} intents={draft.intents} issues={below(issues, 'answer')} />

      <fieldset className="field">
        <legend>Fields to collect, one after the other</legend>
        {intent.collect.map((field, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: fields are edited in place; their key is typed
          <div key={index} className="collect-row">
            <div className="form-row">
              <TextField
                label="Field"
                mono
                value={field.field}
                maxLength={40}
                onChange={(v) => setField(index, { ...field, field: v })}
                error={issues[`collect.${index}.field`]}
                placeholder="order_number"
              />
              <TextField
                label="Question"
                value={field.prompt}
                onChange={(v) => setField(index, { ...field, prompt: v })}
                error={issues[`collect.${index}.prompt`]}
                placeholder="What is your order number?"
              />
            </div>
            <div className="form-row">
              <TextField
                label="Pattern (optional regular expression)"
                mono
                value={field.pattern ?? ''}
                maxLength={200}
                onChange={(v) => setField(index, { ...field, pattern: v })}
                error={issues[`collect.${index}.pattern`]}
                placeholder="#?(\d{5,8})"
              />
              <TextField
                label="Said when it does not fit (optional)"
                value={field.retryText ?? ''}
                onChange={(v) => setField(index, { ...field, retryText: v })}
                error={issues[`collect.${index}.retryText`]}
              />
            </div>
            <div className="row-end">
              <button type="button" className="btn btn-small btn-danger-ghost" onClick={() => onChange({ ...intent, collect: intent.collect.filter((_, i) => i !== index) })}>
                <Icon name="trash" size={14} /> Remove the field {field.field}
              </button>
            </div>
          </div>
        ))}
        <div>
          <button type="button" className="btn btn-small" disabled={intent.collect.length >= 10} onClick={() => onChange({ ...intent, collect: [...intent.collect, newField(intent)] })}>
            <Icon name="plus" size={14} /> Add a field
          </button>
        </div>
      </fieldset>
      {intent.collect.length > 0 && (
        <TextField
          label="Said once every field is collected (optional)"
          value={intent.doneText ?? ''}
          onChange={(doneText) => onChange({ ...intent, doneText })}
          error={issues.doneText}
          hint={`Placeholders: ${intent.collect.map((f) => `{${f.field}}`).join(' ')}`}
        />
      )}
      <div className="form-row">
        <SelectField
          label="Then"
          value={intent.after}
          options={[
            { value: 'continue', label: 'Wait for the next message' },
            { value: 'escalate', label: 'Hand over to a person' },
            { value: 'close', label: 'Close the conversation' },
          ]}
          onChange={(v) => onChange({ ...intent, after: v as FlowIntent['after'] })}
          error={issues.after}
        />
        {intent.after === 'escalate' && (
          <SelectField
            label="To the skill"
            value={intent.escalateToSkillId ?? ''}
            options={skillOptions}
            onChange={(v) => onChange({ ...intent, escalateToSkillId: v || null })}
            error={issues.escalateToSkillId}
          />
        )}
      </div>
      <div className="row-end">
        <button type="button" className="btn btn-small btn-danger-ghost" onClick={onRemove}>
          <Icon name="trash" size={14} /> Remove the intent {intent.name}
        </button>
      </div>
    </div>
  );
}

/** A text with quick replies, each leading to an intent. */
function ReplyEditor({ label, reply, onChange, intents, issues }: { label: string; reply: FlowReply; onChange: (reply: FlowReply) => void; intents: FlowIntent[]; issues: Issues }) {
  const setChoice = (index: number, choice: FlowChoice) => onChange({ ...reply, choices: reply.choices.map((c, i) => (i === index ? choice : c)) });
  const first = intents[0];
  return (
    <>
      <TextField label={`${label} text`} multiline value={reply.text} onChange={(text) => onChange({ ...reply, text })} error={issues.text} />
      <fieldset className="field">
        <legend>{label} quick replies</legend>
        {reply.choices.length === 0 && <p className="muted small">{intents.length === 0 ? 'Add an intent first: each quick reply leads to one.' : 'None.'}</p>}
        {reply.choices.map((choice, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: choices are edited in place
          <div key={index} className="form-row choice-row">
            <TextField label="Button" value={choice.title} maxLength={25} onChange={(title) => setChoice(index, { ...choice, title })} error={issues[`choices.${index}.title`]} />
            <SelectField
              label="Leads to"
              value={choice.intentId}
              options={[
                ...(intents.some((i) => i.id === choice.intentId) ? [] : [{ value: choice.intentId, label: `(unknown: ${choice.intentId})` }]),
                ...intents.map((i) => ({ value: i.id, label: i.name || i.id })),
              ]}
              onChange={(intentId) => setChoice(index, { ...choice, intentId })}
              error={issues[`choices.${index}.intentId`]}
            />
            <button
              type="button"
              className="btn-icon align-end"
              aria-label={`Remove the quick reply ${choice.title || index + 1}`}
              onClick={() => onChange({ ...reply, choices: reply.choices.filter((_, i) => i !== index) })}
            >
              <Icon name="trash" />
            </button>
          </div>
        ))}
        {issues.choices && <span className="field-error">{issues.choices}</span>}
        {first && (
          <div>
            <button
              type="button"
              className="btn btn-small"
              disabled={reply.choices.length >= 8}
              onClick={() => onChange({ ...reply, choices: [...reply.choices, { title: (first.name || first.id).slice(0, 25), intentId: first.id }] })}
            >
              <Icon name="plus" size={14} /> Add a quick reply
            </button>
          </div>
        )}
      </fieldset>
    </>
  );
}

/**
 * The intent's id, applied when the field is left (or on Enter): quick replies follow a renamed intent, and an id
 * typed letter by letter would pass through ids of other intents.
 */
function IdField({ id, taken, onChange, error }: { id: string; taken: string[]; onChange: (id: string) => void; error?: string | undefined }) {
  const [text, setText] = useState(id);
  const [clash, setClash] = useState(false);
  useEffect(() => setText(id), [id]);
  const commit = () => {
    const value = text.trim();
    if (value === id) return setClash(false);
    if (taken.includes(value)) return setClash(true);
    setClash(false);
    onChange(value);
  };
  return (
    <TextField
      label="Id"
      mono
      value={text}
      maxLength={40}
      onChange={(v) => {
        setText(v);
        setClash(false);
      }}
      onBlur={commit}
      onEnter={commit}
      error={clash ? 'Another intent has this id' : error}
      hint="Lowercase letters, digits, underscores; quick replies lead to it."
    />
  );
}
