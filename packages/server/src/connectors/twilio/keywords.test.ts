import { describe, expect, it } from 'vitest';
import { optOutKeyword } from './keywords.ts';

describe('optOutKeyword', () => {
  it.each(['STOP', 'stop', ' Stop ', 'STOPALL', 'unsubscribe', 'Cancel', 'END', 'quit', 'REVOKE', 'optout', 'Stop\n'])('reads %j as an opt-out', (text) => {
    expect(optOutKeyword(text)).toBe('stop');
  });

  it.each(['START', 'yes', 'Unstop'])('reads %j as an opt-in', (text) => {
    expect(optOutKeyword(text)).toBe('start');
  });

  it.each(['HELP', 'info'])('reads %j as a request for help', (text) => {
    expect(optOutKeyword(text)).toBe('help');
  });

  it.each(['stop texting me', 'please stop', 'STOP!', 'OPT OUT', 'yes please', 'no', '', '   ', null, undefined])('reads %j as an ordinary message', (text) => {
    expect(optOutKeyword(text)).toBeNull();
  });
});
