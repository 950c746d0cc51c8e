import { describe, expect, it } from 'vitest';
import { titleText } from './title.ts';

describe('title notifications', () => {
  it('puts the unread count in front of the title', () => {
    expect(titleText(2)).toBe('(2) Parley');
    expect(titleText(1, 'Inbox · Parley')).toBe('(1) Inbox · Parley');
  });

  it('shows the plain title when nothing is unread, and caps large numbers', () => {
    expect(titleText(0)).toBe('Parley');
    expect(titleText(-1)).toBe('Parley');
    expect(titleText(250)).toBe('(99+) Parley');
  });
});
