/** What `ts_headline` puts around each match: control characters no message is expected to hold (they are removed from the text first). */
export const SNIPPET_START = '\u0001';
export const SNIPPET_STOP = '\u0002';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** A headline to the contract's snippet: the text HTML-escaped, each match in `<mark>`…`</mark>`, and nothing else as markup. */
export function markSnippet(headline: string): string {
  return headline
    .replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c)
    .replaceAll(SNIPPET_START, '<mark>')
    .replaceAll(SNIPPET_STOP, '</mark>')
    .replace(/\s+/g, ' ')
    .trim();
}

export interface SearchCursor {
  /** The event's created_at at microsecond precision, UTC (as PostgreSQL prints it), so no message is skipped or repeated. */
  at: string;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeSearchCursor(cursor: SearchCursor): string {
  return Buffer.from(`${cursor.at}|${cursor.id}`).toString('base64url');
}

/** The cursor, or undefined when it was not made by `encodeSearchCursor`. */
export function decodeSearchCursor(value: string): SearchCursor | undefined {
  const [at, id, ...rest] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !at || !id || !INSTANT.test(at) || !UUID.test(id)) return undefined;
  return { at, id };
}
