import { type FlowBotDefinition, FlowBotDefinitionSchema, type FlowInput, type FlowState, FlowStateSchema, FlowTurnSchema, type FlowTurn } from '@parley/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseText as normalise } from '../phrase-match.ts';
import { fieldValue, fill, flowTurn, initialFlowState } from './flow-engine.ts';

const BILLING_SKILL = '7d1c3e5a-0000-4000-8000-000000000001';
const RETURNS_SKILL = '7d1c3e5a-0000-4000-8000-000000000002';

/** A shop's bot: where is my order (collects the order number), returns (escalates), goodbye (closes). */
function shopBot(overrides: Partial<FlowBotDefinition> = {}): FlowBotDefinition {
  return FlowBotDefinitionSchema.parse({
    greeting: {
      text: 'Hi! How can I help?',
      choices: [
        { title: 'Track my order', intentId: 'track_order' },
        { title: 'Return an item', intentId: 'returns' },
      ],
    },
    intents: [
      {
        id: 'track_order',
        name: 'Track an order',
        phrases: ['where is my order', 'order', 'parcel', 'livraison'],
        answer: { text: 'I can look that up.', choices: [{ title: 'Never mind', intentId: 'goodbye' }] },
        collect: [
          { field: 'order_number', prompt: 'What is your order number?', pattern: '#?(\\d{5,8})', retryText: 'Order numbers have 5 to 8 digits.' },
          { field: 'email', prompt: 'And your email?' },
        ],
        doneText: 'Thanks! Order {order_number} for {email}; {unknown} stays.',
      },
      {
        id: 'returns',
        name: 'Returns',
        phrases: ['return', 'refund my order'],
        answer: { text: 'Returns are handled by our team.' },
        after: 'escalate',
        escalateToSkillId: RETURNS_SKILL,
      },
      { id: 'goodbye', name: 'Goodbye', phrases: ['bye', 'never mind'], answer: { text: 'Happy to help.' }, after: 'close' },
      { id: 'opening_hours', name: 'Opening hours', phrases: ['opening hours', 'hours'], answer: { text: 'We are open 9 to 5.' } },
    ],
    fallback: { text: "Sorry, I didn't get that.", escalateAfter: 2 },
    escalation: { text: 'Let me get you a person.', skillId: BILLING_SKILL },
    closingText: 'Goodbye!',
    ...overrides,
  });
}

/** Runs the inputs one after the other from the start, as a conversation would; returns every turn. */
function converse(definition: FlowBotDefinition, ...messages: string[]): FlowTurn[] {
  const turns: FlowTurn[] = [];
  let state: FlowState | null = null;
  for (const input of [{ type: 'start' } as FlowInput, ...messages.map((text): FlowInput => ({ type: 'message', text }))]) {
    // Through JSON, as the state is stored between messages.
    const turn = flowTurn(definition, state === null ? null : JSON.parse(JSON.stringify(state)), input);
    turns.push(turn);
    state = turn.state;
  }
  return turns;
}

const last = (turns: FlowTurn[]): FlowTurn => turns[turns.length - 1] as FlowTurn;
const texts = (turn: FlowTurn): string[] => turn.replies.map((r) => r.text);

describe('the flow bot greets', () => {
  it('with the greeting text and its quick replies, from a fresh state', () => {
    const turn = flowTurn(shopBot(), null, { type: 'start' });
    expect(turn.replies).toEqual([
      {
        text: 'Hi! How can I help?',
        choices: [
          { title: 'Track my order', intentId: 'track_order' },
          { title: 'Return an item', intentId: 'returns' },
        ],
      },
    ]);
    expect(turn.actions).toEqual([]);
    expect(turn.state).toMatchObject({ collecting: null, fields: {}, fallbacks: 0, intents: [] });
  });

  it('from scratch again when started over an earlier state', () => {
    const [, ...rest] = converse(shopBot(), 'what are your opening hours', 'gibberish');
    const turn = flowTurn(shopBot(), last(rest).state, { type: 'start' });
    expect(turn.state).toEqual(flowTurn(shopBot(), null, { type: 'start' }).state);
  });
});

describe('phrases recognise intents', () => {
  it('normalises case, accents and punctuation', () => {
    expect(normalise('  Où est ma LIVRAISON ?!  ')).toBe('ou est ma livraison');
    expect(normalise("Where's my order…")).toBe('where s my order');
  });

  it('ignoring case and accents', () => {
    expect(texts(last(converse(shopBot(), 'OPENING HOURS please')))).toEqual(['We are open 9 to 5.']);
    expect(last(converse(shopBot(), 'Ma livraïson est en retard')).state.intents).toEqual(['track_order']);
  });

  it('only as whole words: "orders" and "border" do not contain the phrase "order"', () => {
    expect(last(converse(shopBot(), 'the border is closed')).state.intents).toEqual([]);
    expect(last(converse(shopBot(), 'my orders')).state.intents).toEqual([]);
    expect(last(converse(shopBot(), 'my order!')).state.intents).toEqual(['track_order']);
  });

  it('as a contiguous run of words: the words of a phrase scattered in the message do not match', () => {
    expect(last(converse(shopBot(), 'hours of opening')).state.intents).toEqual(['opening_hours']); // the phrase "hours"
    expect(last(converse(shopBot(), 'refund the order of my friend')).state.intents).toEqual(['track_order']); // "order", not "refund my order"
  });

  it('giving the intent of the longest matching phrase: "refund my order" beats "order"', () => {
    const turn = last(converse(shopBot(), 'Please refund my order'));
    expect(turn.state.intents).toEqual(['returns']);
  });

  it('giving the intent defined first when two phrases are as long', () => {
    const definition = shopBot();
    definition.intents[3]?.phrases.push('parcel'); // opening_hours now has "parcel" too, defined after track_order
    expect(last(converse(definition, 'my parcel')).state.intents).toEqual(['track_order']);
  });

  it('answering with the intent’s text and quick replies, and resetting the count of misses', () => {
    const turns = converse(shopBot(), 'blah', 'opening hours?');
    expect(turns[1]?.state.fallbacks).toBe(1);
    expect(last(turns).replies).toEqual([{ text: 'We are open 9 to 5.', choices: [] }]);
    expect(last(turns).state.fallbacks).toBe(0);
    expect(last(turns).actions).toEqual([]);
  });
});

describe('quick replies branch', () => {
  it('a message equal to an offered title takes that choice, whatever its phrases say', () => {
    const definition = shopBot();
    const turn = last(converse(definition, 'Return an item'));
    expect(turn.state.intents).toEqual(['returns']);
  });

  it('the title is compared normalised: case, accents and punctuation do not matter', () => {
    expect(last(converse(shopBot(), '  track MY order. ')).state.intents).toEqual(['track_order']);
  });

  it('a choice of the previous menu wins over phrases of other intents', () => {
    const definition = shopBot();
    // "Track my order" could also be read by phrase; add an intent whose longer phrase would win otherwise.
    definition.intents.push({ id: 'track_my_order_bad', name: 'x', phrases: ['track my order'], answer: { text: 'wrong', choices: [] }, collect: [], after: 'continue', escalateToSkillId: null });
    expect(last(converse(definition, 'Track my order')).state.intents).toEqual(['track_order']);
  });

  it('an older menu’s title still branches when nothing else was offered', () => {
    const turns = converse(shopBot(), 'opening hours', 'Return an item');
    expect(last(turns).state.intents).toEqual(['opening_hours', 'returns']);
  });

  it('keeps the offered choices in the state, through JSON', () => {
    const turn = last(converse(shopBot()));
    expect(FlowStateSchema.parse(JSON.parse(JSON.stringify(turn.state))).offered).toEqual(turn.replies[0]?.choices);
  });
});

describe('fields are collected', () => {
  it('asks the first field after the answer, then the next one, then sets them, says the done text and goes on', () => {
    const turns = converse(shopBot(), 'Track my order', 'It is #1234567', '  jo@example.com ');
    expect(texts(turns[1] as FlowTurn)).toEqual(['I can look that up.', 'What is your order number?']);
    expect(turns[1]?.state.collecting).toEqual({ intentId: 'track_order', index: 0 });
    expect(texts(turns[2] as FlowTurn)).toEqual(['And your email?']);
    expect(turns[2]?.actions).toEqual([]);
    const done = last(turns);
    expect(done.actions).toEqual([{ type: 'set_fields', fields: { order_number: '1234567', email: 'jo@example.com' } }]);
    expect(texts(done)).toEqual(['Thanks! Order 1234567 for jo@example.com; {unknown} stays.']);
    expect(done.state).toMatchObject({ collecting: null, fields: { order_number: '1234567', email: 'jo@example.com' }, fallbacks: 0 });
  });

  it('stores the first group of the pattern, else the whole match, trimmed; without a pattern the trimmed text', () => {
    expect(fieldValue('#?(\\d{5,8})', 'order #12345 please')).toBe('12345');
    expect(fieldValue('[a-z]+-\\d+', 'ref ABC-42')).toBe('ABC-42');
    expect(fieldValue('order (\\w+)', 'ORDER xy12')).toBe('xy12');
    expect(fieldValue(undefined, '  some text ')).toBe('some text');
    expect(fieldValue(undefined, '   ')).toBeNull();
    expect(fieldValue('\\d+', 'none')).toBeNull();
  });

  it('asks again with the retry text when the answer does not fit, and counts it as a miss', () => {
    const turn = last(converse(shopBot(), 'Track my order', 'no idea'));
    expect(texts(turn)).toEqual(['Order numbers have 5 to 8 digits.', 'What is your order number?']);
    expect(turn.state.collecting).toEqual({ intentId: 'track_order', index: 0 });
    expect(turn.state.fallbacks).toBe(1);
  });

  it('retries with a default text when the field has none', () => {
    const definition = shopBot();
    const field = definition.intents[0]?.collect[0];
    if (field) field.retryText = undefined;
    expect(last(converse(definition, 'Track my order', 'no idea')).replies[0]?.text).toBe("Sorry, that doesn't look right.");
  });

  it('hands over to a person when the answer misses as often as the fallback allows', () => {
    const turn = last(converse(shopBot(), 'Track my order', 'no idea', 'still no idea'));
    expect(turn.actions).toEqual([{ type: 'escalate', skillId: BILLING_SKILL, reason: 'bot_requested' }]);
    expect(texts(turn)).toEqual(['Let me get you a person.']);
  });

  it('lets the consumer leave with a quick reply of the answer, or a message that is exactly a phrase', () => {
    expect(last(converse(shopBot(), 'Track my order', 'Never mind')).actions).toEqual([{ type: 'close' }]);
    expect(last(converse(shopBot(), 'Track my order', 'Opening hours?')).state).toMatchObject({ collecting: null, intents: ['track_order', 'opening_hours'] });
  });

  it('lets an answer that does not fit leave for an intent a phrase recognises in it', () => {
    const turn = last(converse(shopBot(), 'Track my order', 'actually I want a refund my order now'));
    expect(turn.state.intents).toEqual(['track_order', 'returns']);
    expect(turn.actions[0]).toMatchObject({ type: 'escalate', skillId: RETURNS_SKILL });
  });

  it('keeps an answer that fits even when it contains a phrase', () => {
    const turn = last(converse(shopBot(), 'Track my order', 'order 123456'));
    expect(turn.state.fields).toEqual({ order_number: '123456' });
    expect(texts(turn)).toEqual(['And your email?']);
  });

  it('forgets a collection whose intent was removed from the definition since', () => {
    const turns = converse(shopBot(), 'Track my order');
    const edited = shopBot({
      greeting: { text: 'Hi!', choices: [] },
      intents: shopBot()
        .intents.slice(1)
        .map((i) => ({ ...i, answer: { ...i.answer, choices: [] } })),
    });
    const turn = flowTurn(edited, last(turns).state, { type: 'message', text: '1234567' });
    expect(turn.state.collecting).toBeNull();
    expect(texts(turn)).toEqual(["Sorry, I didn't get that."]);
  });

  it('fills placeholders with the fields collected, leaving unknown ones', () => {
    expect(fill('{a} and {b} and {A} and {}', { a: '1' })).toBe('1 and {b} and {A} and {}');
  });
});

describe('after the answer', () => {
  it('then escalate: the answer, the escalation text, and an escalation to the intent’s skill', () => {
    const turn = last(converse(shopBot(), 'I want to return this'));
    expect(texts(turn)).toEqual(['Returns are handled by our team.', 'Let me get you a person.']);
    expect(turn.actions).toEqual([{ type: 'escalate', skillId: RETURNS_SKILL, reason: 'bot_requested' }]);
  });

  it('then escalate without a skill of its own: the escalation’s skill (null: the bot’s)', () => {
    const definition = shopBot();
    const returns = definition.intents[1];
    if (returns) returns.escalateToSkillId = null;
    expect(last(converse(definition, 'return')).actions).toEqual([{ type: 'escalate', skillId: BILLING_SKILL, reason: 'bot_requested' }]);
    const noSkill = shopBot({ escalation: { text: 'A person comes.', skillId: null } });
    const noneReturns = noSkill.intents[1];
    if (noneReturns) noneReturns.escalateToSkillId = null;
    expect(last(converse(noSkill, 'return')).actions).toEqual([{ type: 'escalate', skillId: null, reason: 'bot_requested' }]);
  });

  it('then close: the answer, the closing text, and a close', () => {
    const turn = last(converse(shopBot(), 'bye'));
    expect(texts(turn)).toEqual(['Happy to help.', 'Goodbye!']);
    expect(turn.actions).toEqual([{ type: 'close' }]);
  });

  it('then close without a closing text: the answer and a close', () => {
    expect(texts(last(converse(shopBot({ closingText: undefined }), 'bye')))).toEqual(['Happy to help.']);
  });

  it('after the fields, `after` applies too: set the fields, say the done text, escalate', () => {
    const definition = shopBot();
    const track = definition.intents[0];
    if (track) track.after = 'escalate';
    const turn = last(converse(definition, 'order', '12345', 'a@b.c'));
    expect(turn.actions.map((a) => a.type)).toEqual(['set_fields', 'escalate']);
    expect(texts(turn)).toEqual(['Thanks! Order 12345 for a@b.c; {unknown} stays.', 'Let me get you a person.']);
  });
});

describe('unrecognised messages', () => {
  it('get the fallback text with the greeting’s quick replies again', () => {
    const turn = last(converse(shopBot(), 'what is the meaning of life'));
    expect(turn.replies).toEqual([{ text: "Sorry, I didn't get that.", choices: shopBot().greeting.choices }]);
    expect(turn.state.fallbacks).toBe(1);
    expect(turn.actions).toEqual([]);
  });

  it('escalate after `escalateAfter` in a row, to the escalation’s skill', () => {
    const turns = converse(shopBot(), 'hmm', 'what?');
    expect(last(turns).actions).toEqual([{ type: 'escalate', skillId: BILLING_SKILL, reason: 'bot_requested' }]);
    expect(texts(last(turns))).toEqual(['Let me get you a person.']);
  });

  it('are counted in a row only: a recognised message in between starts again', () => {
    const definition = shopBot({ fallback: { text: 'Hm?', escalateAfter: 3 } });
    const turns = converse(definition, 'a', 'b', 'hours', 'c', 'd');
    expect(turns.map((t) => t.state.fallbacks)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(turns.flatMap((t) => t.actions)).toEqual([]);
  });

  it('include an empty message', () => {
    expect(last(converse(shopBot(), '   ')).state.fallbacks).toBe(1);
  });
});

describe('the engine is robust', () => {
  it('a definition whose choice names an unknown intent is refused by the contract, with the path', () => {
    const result = FlowBotDefinitionSchema.safeParse({ ...shopBot(), greeting: { text: 'Hi', choices: [{ title: 'X', intentId: 'nope' }] } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['greeting', 'choices', 0, 'intentId']);
  });

  it('starts from the initial state when given none', () => {
    expect(flowTurn(shopBot(), null, { type: 'message', text: 'hours' }).state).toEqual({ ...initialFlowState(), intents: ['opening_hours'], offered: [] });
  });

  it('a state that is not a state is treated as a fresh one', () => {
    const turn = flowTurn(shopBot(), { collecting: 'x' } as unknown as FlowState, { type: 'message', text: 'hours' });
    expect(turn.state.intents).toEqual(['opening_hours']);
  });

  it('a definition that does not fit the contract hands over instead of throwing', () => {
    const turn = flowTurn({} as FlowBotDefinition, null, { type: 'message', text: 'hello' });
    expect(turn.actions).toEqual([{ type: 'escalate', skillId: null, reason: 'bot_requested' }]);
  });

  it('never throws, and every turn and state fits the contract, whatever the consumer sends', () => {
    const definition = shopBot();
    const words = ['order', 'Track my order', 'Return an item', 'Never mind', 'bye', 'hours', '12345', '#9999999', 'é', '', ' ', '{order_number}', 'a@b.c'];
    const message = fc.oneof(
      fc.constantFrom(...words),
      fc.string({ maxLength: 40 }),
      fc.array(fc.constantFrom(...words), { maxLength: 4 }).map((w) => w.join(' ')),
    );
    const input = fc.oneof({ weight: 1, arbitrary: fc.constant<FlowInput>({ type: 'start' }) }, { weight: 8, arbitrary: message.map((text): FlowInput => ({ type: 'message', text })) });
    fc.assert(
      fc.property(fc.array(input, { maxLength: 15 }), (inputs) => {
        let state: FlowState | null = null;
        for (const step of inputs) {
          const turn = flowTurn(definition, state, step);
          expect(FlowTurnSchema.safeParse(turn).success).toBe(true);
          state = FlowStateSchema.parse(JSON.parse(JSON.stringify(turn.state)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same inputs give the same turns', () => {
    const messages = ['hmm', 'Track my order', 'abc', '123456', 'x@y.z', 'bye'];
    expect(converse(shopBot(), ...messages)).toEqual(converse(shopBot(), ...messages));
  });
});
