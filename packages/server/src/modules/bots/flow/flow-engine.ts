import { containsPhrase, normaliseText as normalise } from '../phrase-match.ts';
import { type FlowAction, type FlowBotDefinition, type FlowChoice, type FlowInput, type FlowIntent, type FlowReply, type FlowState, FlowStateSchema, type FlowTurn } from '@parley/protocol';

/**
 * The built-in flow bot: one turn from a definition, the state of the previous turn and what the consumer did. Pure and
 * deterministic (no clock, no randomness, no I/O), so the console preview and a live conversation behave alike; the
 * state is plain JSON, kept by the caller between turns. It never throws: a state that does not fit the definition (an
 * intent removed since) is dropped, and anything unexpected hands the conversation to a person.
 *
 * What a message is matched against, in this order:
 * 1. the quick replies of the previous turn (`state.offered`): the message, normalised, equals a choice's title;
 * 2. any other quick reply of the definition (greeting first, then the intents' answers), title equal to the message:
 *    a consumer tapping an older menu still gets that branch;
 * 3. the intents' phrases: a phrase matches when its words appear in the message as a contiguous run of whole words,
 *    both normalised (lower case, accents removed, punctuation as spaces); the longest matching phrase wins (in words,
 *    then characters), ties going to the intent defined first.
 *
 * While fields are collected, a message first answers the field asked, except when it equals a title of the last
 * quick replies, or the whole message is one of an intent's phrases: then the consumer leaves the collection for that
 * branch. An answer that does not fit the field's pattern leaves too when a phrase matches in it; otherwise it is asked
 * again, and counts as an unrecognised message (so a consumer stuck on a field reaches a person after
 * `fallback.escalateAfter` tries).
 */
export function flowTurn(definition: FlowBotDefinition, state: FlowState | null, input: FlowInput): FlowTurn {
  try {
    const current = usableState(definition, state);
    if (input.type === 'start') return greet(definition);
    const text = typeof input.text === 'string' ? input.text : '';
    if (current.collecting) return collect(definition, current, current.collecting, text);
    return respond(definition, current, text);
  } catch {
    // A definition that does not fit the contract (it was not validated): hand the conversation to a person.
    const skillId = typeof definition?.escalation?.skillId === 'string' ? definition.escalation.skillId : null;
    const text = typeof definition?.escalation?.text === 'string' ? definition.escalation.text : '';
    return { replies: text ? [{ text, choices: [] }] : [], actions: [{ type: 'escalate', skillId, reason: 'bot_requested' }], state: initialFlowState() };
  }
}

/** The state before the bot said anything. */
export function initialFlowState(): FlowState {
  return { collecting: null, fields: {}, fallbacks: 0, intents: [], offered: [] };
}

/** What a turn produces before the state is attached. */
interface Outcome {
  replies: FlowTurn['replies'];
  actions: FlowAction[];
}

const DEFAULT_RETRY_TEXT = "Sorry, that doesn't look right.";
const DEFAULT_DONE_TEXT = 'Thank you.';

function usableState(definition: FlowBotDefinition, state: FlowState | null): FlowState {
  const parsed = state === null ? null : FlowStateSchema.safeParse(state);
  if (!parsed?.success) return initialFlowState();
  const value = parsed.data;
  const collecting = value.collecting;
  if (collecting) {
    const intent = intentById(definition, collecting.intentId);
    if (!intent || collecting.index >= intent.collect.length) return { ...value, collecting: null };
  }
  return value;
}

function greet(definition: FlowBotDefinition): FlowTurn {
  const state = initialFlowState();
  return { replies: [reply(definition.greeting)], actions: [], state: { ...state, offered: choicesOf(definition.greeting) } };
}

/** A message while no field is asked: a quick reply, an intent, or the fallback. */
function respond(definition: FlowBotDefinition, state: FlowState, text: string): FlowTurn {
  const said = normalise(text);
  const intent = chosenIntent(definition, state, said) ?? intentByPhrase(definition, said);
  if (intent) return recognise(definition, state, intent);
  return unrecognised(definition, state, { replies: [], actions: [] });
}

/** The consumer recognised `intent`: its answer, then its first field or what comes after it. */
function recognise(definition: FlowBotDefinition, state: FlowState, intent: FlowIntent): FlowTurn {
  const recognised: FlowState = { ...state, collecting: null, fallbacks: 0, intents: [...state.intents, intent.id], offered: choicesOf(intent.answer) };
  const answer = reply(intent.answer, recognised.fields);
  const first = intent.collect[0];
  if (first) {
    return { replies: [answer, { text: first.prompt, choices: [] }], actions: [], state: { ...recognised, collecting: { intentId: intent.id, index: 0 } } };
  }
  return finish(definition, recognised, intent, { replies: [answer], actions: [] });
}

/** A message while a field is asked. */
function collect(definition: FlowBotDefinition, state: FlowState, collecting: { intentId: string; index: number }, text: string): FlowTurn {
  // usableState made sure both exist.
  const intent = intentById(definition, collecting.intentId) as FlowIntent;
  const field = intent.collect[collecting.index] as FlowIntent['collect'][number];
  const said = normalise(text);

  const leave = offeredIntent(definition, state, said) ?? intentByWholePhrase(definition, said);
  if (leave) return recognise(definition, state, leave);

  const value = fieldValue(field.pattern, text);
  if (value === null) {
    const other = intentByPhrase(definition, said);
    if (other) return recognise(definition, state, other);
    return unrecognised(
      definition,
      state,
      {
        replies: [
          { text: field.retryText ?? DEFAULT_RETRY_TEXT, choices: [] },
          { text: field.prompt, choices: [] },
        ],
        actions: [],
      },
      false,
    );
  }

  const fields = { ...state.fields, [field.field]: value };
  const next = intent.collect[collecting.index + 1];
  if (next) {
    return { replies: [{ text: next.prompt, choices: [] }], actions: [], state: { ...state, fields, fallbacks: 0, collecting: { intentId: intent.id, index: collecting.index + 1 } } };
  }
  const collected: Record<string, string> = {};
  for (const f of intent.collect) {
    const v = fields[f.field];
    if (v !== undefined) collected[f.field] = v;
  }
  const done: FlowState = { ...state, fields, fallbacks: 0, collecting: null, offered: [] };
  const doneText = intent.doneText ?? (intent.after === 'continue' ? DEFAULT_DONE_TEXT : undefined);
  return finish(definition, done, intent, {
    replies: doneText === undefined ? [] : [{ text: fill(doneText, fields), choices: [] }],
    actions: [{ type: 'set_fields', fields: collected }],
  });
}

/** Applies the intent's `after` after its answer (and fields). */
function finish(definition: FlowBotDefinition, state: FlowState, intent: FlowIntent, outcome: Outcome): FlowTurn {
  if (intent.after === 'escalate') {
    const escalation = escalate(definition, intent.escalateToSkillId ?? null, state);
    return { replies: [...outcome.replies, ...escalation.replies], actions: [...outcome.actions, ...escalation.actions], state: escalation.state };
  }
  if (intent.after === 'close') {
    const closing = definition.closingText ? [{ text: fill(definition.closingText, state.fields), choices: [] }] : [];
    return { replies: [...outcome.replies, ...closing], actions: [...outcome.actions, { type: 'close' }], state: { ...state, collecting: null, offered: [] } };
  }
  return { ...outcome, state };
}

/**
 * Nothing was recognised: one more consecutive miss; at `fallback.escalateAfter` the conversation goes to a person,
 * otherwise the fallback text (or the retry of a field) is said, with the greeting's quick replies again.
 */
function unrecognised(definition: FlowBotDefinition, state: FlowState, retry: Outcome, offerGreeting = true): FlowTurn {
  const fallbacks = state.fallbacks + 1;
  const missed: FlowState = { ...state, fallbacks };
  if (fallbacks >= (definition.fallback.escalateAfter ?? 2)) {
    const escalation = escalate(definition, null, missed);
    return { ...escalation, state: escalation.state };
  }
  if (retry.replies.length > 0) return { ...retry, state: missed };
  const choices = offerGreeting ? choicesOf(definition.greeting) : [];
  return { replies: [{ text: definition.fallback.text, choices }], actions: [], state: { ...missed, offered: choices } };
}

/** The escalation text and action; `skillId` null: the definition's escalation skill (null again: the bot's). */
function escalate(definition: FlowBotDefinition, skillId: string | null, state: FlowState): FlowTurn {
  return {
    replies: [{ text: definition.escalation.text, choices: [] }],
    actions: [{ type: 'escalate', skillId: skillId ?? definition.escalation.skillId ?? null, reason: 'bot_requested' }],
    state: { ...state, collecting: null, offered: [] },
  };
}

/** The intent of a quick reply whose title is the message: the last offered ones first, then any of the definition. */
function chosenIntent(definition: FlowBotDefinition, state: FlowState, said: string): FlowIntent | undefined {
  const offered = offeredIntent(definition, state, said);
  if (offered) return offered;
  const menus = [definition.greeting, ...definition.intents.map((i) => i.answer)];
  for (const menu of menus) {
    const intent = choiceIntent(definition, choicesOf(menu), said);
    if (intent) return intent;
  }
  return undefined;
}

function offeredIntent(definition: FlowBotDefinition, state: FlowState, said: string): FlowIntent | undefined {
  return choiceIntent(definition, state.offered ?? [], said);
}

function choiceIntent(definition: FlowBotDefinition, choices: FlowChoice[], said: string): FlowIntent | undefined {
  if (!said) return undefined;
  for (const choice of choices) {
    if (normalise(choice.title) !== said) continue;
    const intent = intentById(definition, choice.intentId);
    if (intent) return intent;
  }
  return undefined;
}

/** The intent with the longest phrase found in the message (words, then characters; the first defined on a tie). */
function intentByPhrase(definition: FlowBotDefinition, said: string): FlowIntent | undefined {
  let best: { intent: FlowIntent; words: number; chars: number } | undefined;
  for (const intent of definition.intents) {
    for (const phrase of intent.phrases ?? []) {
      const normalised = normalise(phrase);
      if (!said || !containsPhrase(said, normalised)) continue;
      const words = normalised.split(' ').length;
      if (!best || words > best.words || (words === best.words && normalised.length > best.chars)) best = { intent, words, chars: normalised.length };
    }
  }
  return best?.intent;
}

/** The first intent one of whose phrases is the whole message. */
function intentByWholePhrase(definition: FlowBotDefinition, said: string): FlowIntent | undefined {
  if (!said) return undefined;
  return definition.intents.find((intent) => (intent.phrases ?? []).some((phrase) => normalise(phrase) === said));
}

/**
 * What is stored for a field, or null when the answer does not fit: the first group of the pattern's first match (or
 * the whole match), trimmed; without a pattern, the trimmed text. Never empty.
 */
export function fieldValue(pattern: string | undefined, text: string): string | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  if (pattern === undefined || pattern === '') return trimmed;
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, 'i');
  } catch {
    // The contract refuses such a definition; one that got here anyway collects the text as it is.
    return trimmed;
  }
  const match = regex.exec(trimmed);
  if (!match) return null;
  const value = (match[1] ?? match[0]).trim();
  return value || null;
}

/** `{field}` placeholders filled from the collected fields; unknown ones are left as they are. */
export function fill(text: string, fields: Record<string, string>): string {
  return text.replace(/\{([a-z][a-z0-9_]*)\}/g, (whole, name: string) => (Object.hasOwn(fields, name) ? (fields[name] as string) : whole));
}

function reply(source: FlowReply, fields: Record<string, string> = {}): FlowTurn['replies'][number] {
  return { text: fill(source.text, fields), choices: choicesOf(source) };
}

function choicesOf(source: FlowReply): FlowChoice[] {
  return (source.choices ?? []).map((c) => ({ title: c.title, intentId: c.intentId }));
}

function intentById(definition: FlowBotDefinition, id: string): FlowIntent | undefined {
  return definition.intents.find((intent) => intent.id === id);
}
