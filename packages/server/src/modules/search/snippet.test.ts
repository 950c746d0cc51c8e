import { describe, expect, it } from 'vitest';
import { decodeSearchCursor, encodeSearchCursor, markSnippet, SNIPPET_START, SNIPPET_STOP } from './snippet.ts';

describe('search snippets', () => {
  it('marks the matches and escapes everything else, so a message cannot inject markup', () => {
    const headline = `<b>my</b> ${SNIPPET_START}parcel${SNIPPET_STOP} & "the" box`;
    expect(markSnippet(headline)).toBe('&lt;b&gt;my&lt;/b&gt; <mark>parcel</mark> &amp; &quot;the&quot; box');
  });

  it('folds line breaks into spaces', () => {
    expect(markSnippet(`first line\n\n${SNIPPET_START}second${SNIPPET_STOP}  line `)).toBe('first line <mark>second</mark> line');
  });
});

describe('search cursors', () => {
  it('round-trips the instant and the event id', () => {
    const cursor = { at: '2026-12-10T09:08:07.123456Z', id: '0b6f1f39-3a8e-4c52-9d4b-2f1c7d5e6a10' };
    expect(decodeSearchCursor(encodeSearchCursor(cursor))).toEqual(cursor);
  });

  it('refuses what it did not make', () => {
    expect(decodeSearchCursor('not-a-cursor')).toBeUndefined();
    expect(decodeSearchCursor(Buffer.from("2026-12-10T09:08:07.123456Z|x' or 1=1").toString('base64url'))).toBeUndefined();
  });
});
