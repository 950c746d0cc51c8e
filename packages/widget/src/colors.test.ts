import { describe, expect, it } from 'vitest';
import { accentOnWhite, contrastRatio, textOn } from './colors.ts';

describe('brand colour', () => {
  it('puts white text on dark colours and dark text on light ones', () => {
    expect(textOn('#2456d6')).toBe('#ffffff');
    expect(textOn('#2f5d62')).toBe('#ffffff');
    expect(textOn('#f2c94c')).toBe('#000000');
    expect(textOn('#ffffff')).toBe('#000000');
  });

  it('keeps text on any brand colour at AA contrast (4.5:1) or better', () => {
    for (const colour of ['#000000', '#ffffff', '#ff0000', '#00ff00', '#0000ff', '#777777', '#f2c94c', '#2456d6']) expect(contrastRatio(colour, textOn(colour))).toBeGreaterThanOrEqual(4.5);
  });

  it('darkens a light brand colour until it reads on white (links, outlines)', () => {
    expect(contrastRatio(accentOnWhite('#f2c94c'), '#ffffff')).toBeGreaterThanOrEqual(4.5);
    expect(accentOnWhite('#2456d6')).toBe('#2456d6');
  });
});
