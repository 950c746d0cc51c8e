import { describe, expect, it } from 'vitest';
import { locales, pickLocale, translator } from './strings.ts';

describe('widget strings', () => {
  it('picks the first supported locale: the setting, then the browser languages, matching by language; English otherwise', () => {
    expect(pickLocale(['fr', 'de'])).toBe('fr');
    expect(pickLocale([undefined, 'fr-CA', 'en-US'])).toBe('fr');
    expect(pickLocale(['pt-BR', 'es-MX'])).toBe('es');
    expect(pickLocale(['ja', null])).toBe('en');
    expect(pickLocale([])).toBe('en');
  });

  it('fills placeholders and falls back to English for a string a locale lacks', () => {
    const de = translator('de');
    expect(de.t('typing', { name: 'Anna' })).toBe('Anna schreibt…');
    expect(locales.de?.openMap).toBeUndefined();
    expect(de.t('openMap')).toBe('Open the map');
    expect(translator('xx').t('send')).toBe('Send');
  });

  it('chooses plural forms by the locale’s rules', () => {
    const en = translator('en');
    expect(en.plural('newMessageTitle', 1, { title: 'Shop' })).toBe('(1) New message – Shop');
    expect(en.plural('newMessageTitle', 3, { title: 'Shop' })).toBe('(3) New messages – Shop');
    expect(translator('fr').plural('openChatUnread', 0)).toBe('Ouvrir la discussion, 0 message non lu');
  });

  it('has every English string in French (the complete second locale)', () => {
    expect(Object.keys(locales.fr ?? {}).sort()).toEqual(Object.keys(locales.en ?? {}).sort());
  });
});
