import type { CannedResponse } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { findShortcutToken, insertCanned, matchCanned } from './canned-match.ts';

const canned = (shortcut: string, title: string, scope: 'account' | 'personal' = 'account'): CannedResponse => ({
  id: `${scope}-${shortcut}`,
  scope,
  ownerId: null,
  shortcut,
  title,
  text: `${title} text`,
  quickReplies: null,
  createdAt: '2026-11-24T09:00:00.000Z',
  updatedAt: '2026-11-24T09:00:00.000Z',
});

const all = [canned('refund', 'Refund policy'), canned('greet', 'Greeting'), canned('greet-evening', 'Evening greeting'), canned('ship', 'Shipping times'), canned('agreed', 'Agreement')];

describe('canned-response shortcut matching', () => {
  it('finds a /token at the caret, at the start or after a space only', () => {
    expect(findShortcutToken('/gr', 3)).toEqual({ start: 0, end: 3, query: 'gr' });
    expect(findShortcutToken('Hello /re', 9)).toEqual({ start: 6, end: 9, query: 're' });
    expect(findShortcutToken('see http://x/gr', 15)).toBeNull();
    expect(findShortcutToken('1/2', 3)).toBeNull();
    expect(findShortcutToken('/', 1)).toEqual({ start: 0, end: 1, query: '' });
    expect(findShortcutToken('/greet and more', 6)).toEqual({ start: 0, end: 6, query: 'greet' });
  });

  it('ranks an exact shortcut first, then prefixes, then substrings and titles', () => {
    expect(matchCanned(all, 'greet').map((c) => c.shortcut)).toEqual(['greet', 'greet-evening']);
    expect(matchCanned(all, 're').map((c) => c.shortcut)).toEqual(['refund', 'agreed', 'greet', 'greet-evening']);
    expect(matchCanned(all, 'times').map((c) => c.shortcut)).toEqual(['ship']);
    expect(matchCanned(all, 'zzz')).toEqual([]);
    expect(matchCanned(all, '', 2)).toHaveLength(2);
  });

  it('lets a personal response hide an account one with the same shortcut', () => {
    const mine = canned('greet', 'My greeting', 'personal');
    expect(matchCanned([...all, mine], 'greet')[0]).toBe(mine);
    expect(matchCanned([mine, ...all], 'greet')[0]).toBe(mine);
  });

  it('replaces the token with the text and puts the caret after it', () => {
    const token = findShortcutToken('Hi! /gr thanks', 7);
    expect(token).not.toBeNull();
    if (!token) return;
    expect(insertCanned('Hi! /gr thanks', token, { text: 'Hello there' })).toEqual({ text: 'Hi! Hello there thanks', caret: 15 });
  });
});
