import type { CannedResponse } from '@parley/protocol';

/** The `/shortcut` being typed just before the caret: where it starts (the slash) and what follows the slash. */
export interface ShortcutToken {
  start: number;
  end: number;
  query: string;
}

/**
 * Finds a `/query` token ending at the caret. The slash must start the text or follow whitespace, so URLs and
 * fractions ("1/2") do not open the menu.
 */
export function findShortcutToken(text: string, caret: number): ShortcutToken | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)\/([a-z0-9-]*)$/i.exec(before);
  if (!match) return null;
  const query = match[2] ?? '';
  return { start: caret - query.length - 1, end: caret, query: query.toLowerCase() };
}

/**
 * The canned responses matching a query, best first: an exact shortcut, then shortcuts starting with the query, then
 * shortcuts or titles containing it. A personal response hides an account-wide one with the same shortcut.
 */
export function matchCanned(responses: readonly CannedResponse[], query: string, limit = 8): CannedResponse[] {
  const q = query.toLowerCase();
  const byShortcut = new Map<string, CannedResponse>();
  for (const response of responses) {
    const current = byShortcut.get(response.shortcut);
    if (!current || (current.scope === 'account' && response.scope === 'personal')) byShortcut.set(response.shortcut, response);
  }
  const rank = (r: CannedResponse): number => {
    if (q === '') return 1;
    if (r.shortcut === q) return 0;
    if (r.shortcut.startsWith(q)) return 1;
    if (r.shortcut.includes(q)) return 2;
    if (r.title.toLowerCase().includes(q)) return 3;
    return -1;
  };
  return [...byShortcut.values()]
    .map((r) => ({ r, rank: rank(r) }))
    .filter((x) => x.rank >= 0)
    .sort((a, b) => a.rank - b.rank || a.r.shortcut.localeCompare(b.r.shortcut))
    .slice(0, limit)
    .map((x) => x.r);
}

/** Replaces the token with the response's text; returns the new text and where the caret goes. */
export function insertCanned(text: string, token: ShortcutToken, response: Pick<CannedResponse, 'text'>): { text: string; caret: number } {
  const next = text.slice(0, token.start) + response.text + text.slice(token.end);
  return { text: next, caret: token.start + response.text.length };
}
