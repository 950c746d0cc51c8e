import { describe, expect, it } from 'vitest';
import { containsPhrase, findPhrase, normaliseText } from './phrase-match.ts';

describe('phrase matching', () => {
  it('ignores case, accents and punctuation', () => {
    expect(normaliseText('  Ça   va, l’Agent ?! ')).toBe('ca va l agent');
    expect(findPhrase('I want a HUMAN!!!', ['human'])).toBe('human');
    expect(findPhrase('Je veux parler à un opérateur', ['operateur'])).toBe('operateur');
  });

  it('matches whole words only', () => {
    expect(findPhrase('the agents are great', ['agent'])).toBeUndefined();
    expect(findPhrase('reagent', ['agent'])).toBeUndefined();
    expect(findPhrase('agent', ['agent'])).toBe('agent');
  });

  it('matches a phrase of several words in sequence', () => {
    expect(containsPhrase(normaliseText('Can I talk to someone please'), 'talk to someone')).toBe(true);
    expect(containsPhrase(normaliseText('someone to talk'), 'talk to someone')).toBe(false);
  });

  it('never matches an empty phrase', () => {
    expect(findPhrase('anything', ['', '  ', '!!'])).toBeUndefined();
  });
});
