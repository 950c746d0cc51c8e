/** A search hit's snippet in parts: the server sends the text HTML-escaped with each match in `<mark>`…`</mark>`. */
export interface SnippetPart {
  text: string;
  match: boolean;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const unescapeHtml = (text: string) => text.replace(/&(?:amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e] ?? e);

/** Splits a snippet into plain and matched text, so it renders as text nodes (never as HTML). */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  const pattern = /<mark>(.*?)<\/mark>/gs;
  let last = 0;
  for (const found of snippet.matchAll(pattern)) {
    if (found.index > last) parts.push({ text: unescapeHtml(snippet.slice(last, found.index)), match: false });
    parts.push({ text: unescapeHtml(found[1] ?? ''), match: true });
    last = found.index + found[0].length;
  }
  if (last < snippet.length) parts.push({ text: unescapeHtml(snippet.slice(last)), match: false });
  return parts;
}

/** `#seq-12` in the URL of a conversation: the message a search result points at. */
export function messageAnchor(sequence: number): string {
  return `seq-${sequence}`;
}

export function anchoredSequence(hash: string): number | null {
  const found = /^#seq-(\d+)$/.exec(hash);
  return found ? Number(found[1]) : null;
}
