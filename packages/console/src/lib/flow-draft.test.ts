import { FlowBotDefinitionSchema } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { describeAction, type FlowDraft, intentIdFrom, issuesBelow, newIntent, removeIntent, renameIntent, starterFlow, toDefinition } from './flow-draft.ts';

function draftWithTwoIntents(): FlowDraft {
  const draft = starterFlow();
  const track = { ...newIntent(draft, 'Track order'), phrases: ['order'], answer: { text: 'Sure.', choices: [] } };
  draft.intents.push(track);
  const bye = { ...newIntent(draft, 'Bye'), phrases: ['bye'], answer: { text: 'Bye!', choices: [{ title: 'Back', intentId: 'track_order' }] } };
  draft.intents.push(bye);
  draft.greeting.choices.push({ title: 'Track', intentId: 'track_order' }, { title: 'Bye', intentId: 'bye' });
  return draft;
}

describe('the flow editor’s draft', () => {
  it('starts with a definition the contract accepts', () => {
    expect(FlowBotDefinitionSchema.safeParse(toDefinition(starterFlow())).success).toBe(true);
  });

  it('leaves empty optional texts out of the definition', () => {
    const draft = draftWithTwoIntents();
    draft.closingText = '  ';
    const first = draft.intents[0];
    if (first) {
      first.doneText = '';
      first.collect = [{ field: 'order_number', prompt: 'Number?', pattern: '', retryText: ' ' }];
    }
    const definition = toDefinition(draft);
    expect('closingText' in definition).toBe(false);
    expect('doneText' in (definition.intents[0] ?? {})).toBe(false);
    expect(definition.intents[0]?.collect).toEqual([{ field: 'order_number', prompt: 'Number?' }]);
    expect(FlowBotDefinitionSchema.safeParse(definition).success).toBe(true);
  });

  it('makes intent ids from names, free among the taken ones', () => {
    expect(intentIdFrom('Où est ma commande ?')).toBe('ou_est_ma_commande');
    expect(intentIdFrom('42 answers')).toBe('answers');
    expect(intentIdFrom('!!!')).toBe('intent');
    expect(intentIdFrom('Bye', ['bye', 'bye_2'])).toBe('bye_3');
  });

  it('renames an intent together with the quick replies that lead to it', () => {
    const renamed = renameIntent(draftWithTwoIntents(), 0, 'tracking');
    expect(renamed.intents.map((i) => i.id)).toEqual(['tracking', 'bye']);
    expect(renamed.greeting.choices.map((c) => c.intentId)).toEqual(['tracking', 'bye']);
    expect(renamed.intents[1]?.answer.choices.map((c) => c.intentId)).toEqual(['tracking']);
  });

  it('refuses an id another intent has', () => {
    const draft = draftWithTwoIntents();
    expect(renameIntent(draft, 1, 'track_order')).toBe(draft);
  });

  it('removes an intent together with the quick replies that lead to it', () => {
    const removed = removeIntent(draftWithTwoIntents(), 'track_order');
    expect(removed.intents.map((i) => i.id)).toEqual(['bye']);
    expect(removed.greeting.choices).toEqual([{ title: 'Bye', intentId: 'bye' }]);
    expect(removed.intents[0]?.answer.choices).toEqual([]);
    expect(FlowBotDefinitionSchema.safeParse(toDefinition(removed)).success).toBe(true);
  });

  it('reads validation issues below a path, so each shows at its field', () => {
    const error = {
      details: {
        issues: [
          { path: 'body.flow.greeting.choices.0.intentId', message: 'No intent "x"' },
          { path: 'body.flow.greeting.choices.0.intentId', message: 'second message' },
          { path: 'body.name', message: 'Too short' },
        ],
      },
    };
    expect(issuesBelow(error, 'body.flow')).toEqual({ 'greeting.choices.0.intentId': 'No intent "x"' });
    expect(issuesBelow(error, 'body')).toEqual({ 'flow.greeting.choices.0.intentId': 'No intent "x"', name: 'Too short' });
    expect(issuesBelow(new Error('boom'), 'body')).toEqual({});
  });

  it('describes the actions of a preview turn', () => {
    const names = (id: string) => (id === 's1' ? 'Billing' : undefined);
    expect(describeAction({ type: 'escalate', skillId: 's1', reason: 'bot_requested' }, names)).toBe('Hands over to Billing');
    expect(describeAction({ type: 'escalate', skillId: null, reason: 'bot_requested' }, names)).toBe("Hands over to the bot's escalation skill");
    expect(describeAction({ type: 'close' }, names)).toBe('Closes the conversation');
    expect(describeAction({ type: 'set_fields', fields: { order_number: '12345' } }, names)).toBe('Sets order_number = 12345');
  });
});
