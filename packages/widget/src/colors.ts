/** Colour arithmetic for the brand colour: readable text on it, and a darker shade for hover and focus. */

const HEX = /^#([0-9a-f]{6})$/i;

/** `#rrggbb` as [r, g, b] in 0..255; the fallback colour for anything else. */
export function parseHex(hex: string, fallback = '#2456d6'): [number, number, number] {
  const match = HEX.exec(hex) ?? HEX.exec(fallback);
  const value = Number.parseInt(match?.[1] ?? '2456d6', 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

const toHex = (rgb: [number, number, number]) =>
  `#${rgb
    .map((c) =>
      Math.round(Math.min(255, Math.max(0, c)))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;

/** WCAG relative luminance. */
export function luminance(hex: string): number {
  const [r, g, b] = parseHex(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two colours (1..21). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** White or black, whichever reads better on the background: one of them always reaches 4.58:1 (AA). */
export function textOn(background: string): string {
  return contrastRatio(background, '#ffffff') >= contrastRatio(background, '#000000') ? '#ffffff' : '#000000';
}

/** The colour mixed towards black by `amount` (0..1). */
export function darken(hex: string, amount: number): string {
  const rgb = parseHex(hex);
  return toHex(rgb.map((c) => c * (1 - amount)) as [number, number, number]);
}

/**
 * The brand colour made dark enough to be read as text or as a thin outline on white (at least 4.5:1), e.g. for
 * links and focus rings; a light brand colour is darkened step by step.
 */
export function accentOnWhite(hex: string): string {
  let colour = toHex(parseHex(hex));
  for (let i = 0; i < 20 && contrastRatio(colour, '#ffffff') < 4.5; i++) colour = darken(colour, 0.1);
  return colour;
}
