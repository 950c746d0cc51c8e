import { describe, expect, it } from 'vitest';
import { anchoredSequence, messageAnchor, snippetParts } from './search-snippet.ts';

describe('search snippets', () => {
  it('splits marked matches from plain text and unescapes both', () => {
    expect(snippetParts('Where is my <mark>parcel</mark> &amp; &lt;b&gt;box&lt;/b&gt; <mark>parcel</mark>')).toEqual([
      { text: 'Where is my ', match: false },
      { text: 'parcel', match: true },
      { text: ' & <b>box</b> ', match: false },
      { text: 'parcel', match: true },
    ]);
  });

  it('keeps a snippet without matches whole', () => {
    expect(snippetParts('no match here')).toEqual([{ text: 'no match here', match: false }]);
  });

  it('round-trips the message anchor of a result', () => {
    expect(anchoredSequence(`#${messageAnchor(12)}`)).toBe(12);
    expect(anchoredSequence('#other')).toBeNull();
  });
});
