import type { FlowAction, FlowBotDefinition, FlowChoice, FlowField, FlowIntent } from '@parley/protocol';

/**
 * The flow editor's draft is a `FlowBotDefinition` whose optional texts may be empty strings while the admin types;
 * `toDefinition` turns it into what the API takes. The rest are the small rules of the editor, kept pure for tests.
 */
export type FlowDraft = FlowBotDefinition;

/** What a new flow bot starts with: enough to preview at once. */
export function starterFlow(): FlowDraft {
  return {
    greeting: { text: 'Hi! How can I help you today?', choices: [] },
    intents: [],
    fallback: { text: "Sorry, I didn't understand that. Could you say it another way?", escalateAfter: 2 },
    escalation: { text: 'Let me connect you with a person.', skillId: null },
  };
}

const optional = (text: string | undefined): string | undefined => (text === undefined || text.trim() === '' ? undefined : text);

/** The draft as the API takes it: empty optional texts left out. */
export function toDefinition(draft: FlowDraft): FlowBotDefinition {
  const definition: FlowBotDefinition = {
    greeting: draft.greeting,
    intents: draft.intents.map((intent) => {
      const copy: FlowIntent = {
        ...intent,
        collect: intent.collect.map((field) => {
          const f: FlowField = { field: field.field, prompt: field.prompt };
          const pattern = optional(field.pattern);
          const retryText = optional(field.retryText);
          if (pattern !== undefined) f.pattern = pattern;
          if (retryText !== undefined) f.retryText = retryText;
          return f;
        }),
      };
      const doneText = optional(intent.doneText);
      if (doneText === undefined) delete copy.doneText;
      else copy.doneText = doneText;
      return copy;
    }),
    fallback: draft.fallback,
    escalation: draft.escalation,
  };
  const closingText = optional(draft.closingText);
  if (closingText !== undefined) definition.closingText = closingText;
  return definition;
}

/** An intent id from its name: lowercase letters, digits and underscores, starting with a letter, at most 40. */
export function intentIdFrom(name: string, taken: readonly string[] = []): string {
  const base =
    name
      .normalize('NFD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^[^a-z]+/, '')
      .replace(/_+$/, '')
      .slice(0, 34) || 'intent';
  if (!taken.includes(base)) return base;
  for (let n = 2; ; n++) if (!taken.includes(`${base}_${n}`)) return `${base}_${n}`;
}

/** A new intent, its id free among the draft's. */
export function newIntent(draft: FlowDraft, name = 'New intent'): FlowIntent {
  return {
    after: 'continue',
    id: intentIdFrom(
      name,
      draft.intents.map((i) => i.id),
    ),
    name,
    phrases: [],
    answer: { text: '', choices: [] },
    collect: [],
    escalateToSkillId: null,
  };
}

export function newField(intent: FlowIntent): FlowField {
  const taken = intent.collect.map((f) => f.field);
  let field = 'field';
  for (let n = 2; taken.includes(field); n++) field = `field_${n}`;
  return { field, prompt: '' };
}

/**
 * Gives the intent at `index` the id `to`, and the quick replies that led to its old id follow it. An id another intent
 * has is refused (the draft comes back unchanged): two intents sharing an id could not be told apart again.
 */
export function renameIntent(draft: FlowDraft, index: number, to: string): FlowDraft {
  const from = draft.intents[index]?.id;
  if (from === undefined || from === to || draft.intents.some((intent, i) => i !== index && intent.id === to)) return draft;
  const retarget = (choices: FlowChoice[]) => choices.map((c) => (c.intentId === from ? { ...c, intentId: to } : c));
  return {
    ...draft,
    greeting: { ...draft.greeting, choices: retarget(draft.greeting.choices) },
    intents: draft.intents.map((intent, i) => ({ ...intent, id: i === index ? to : intent.id, answer: { ...intent.answer, choices: retarget(intent.answer.choices) } })),
  };
}

/** Removes an intent, and the quick replies that led to it (they would point nowhere). */
export function removeIntent(draft: FlowDraft, id: string): FlowDraft {
  const keep = (choices: FlowChoice[]) => choices.filter((c) => c.intentId !== id);
  return {
    ...draft,
    greeting: { ...draft.greeting, choices: keep(draft.greeting.choices) },
    intents: draft.intents.filter((i) => i.id !== id).map((intent) => ({ ...intent, answer: { ...intent.answer, choices: keep(intent.answer.choices) } })),
  };
}

/**
 * Validation issues of an API error (`details.issues[].path` like `body.flow.intents.0.name`), keyed by the path below
 * `prefix` (`body.flow` gives `intents.0.name`); issues outside the prefix are left out. The first message per path wins.
 */
export function issuesBelow(error: unknown, prefix: string): Record<string, string> {
  const details = (error as { details?: { issues?: unknown } } | null)?.details;
  const issues = Array.isArray(details?.issues) ? (details.issues as { path?: unknown; message?: unknown }[]) : [];
  const out: Record<string, string> = {};
  for (const issue of issues) {
    if (typeof issue.path !== 'string' || typeof issue.message !== 'string') continue;
    if (issue.path !== prefix && !issue.path.startsWith(`${prefix}.`)) continue;
    const key = issue.path.slice(prefix.length + 1);
    out[key] ??= issue.message;
  }
  return out;
}

/** How an action of a preview turn reads on its chip. */
export function describeAction(action: FlowAction, skillName: (id: string) => string | undefined): string {
  if (action.type === 'close') return 'Closes the conversation';
  if (action.type === 'set_fields') {
    const fields = Object.entries(action.fields).map(([k, v]) => `${k} = ${v}`);
    return `Sets ${fields.join(', ') || 'no field'}`;
  }
  const skill = action.skillId ? (skillName(action.skillId) ?? 'a skill') : "the bot's escalation skill";
  return `Hands over to ${skill}`;
}
