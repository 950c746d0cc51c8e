import type { Translator } from './strings.ts';

/**
 * The page-title notice, "(2) New messages – <the page's title>", while replies wait unread; restored when cleared.
 * If the page changed its own title meanwhile, that title is kept and wrapped instead.
 */
export class TitleNotice {
  #original: string | null = null;
  #shown: string | null = null;

  constructor(
    private readonly doc: Document,
    private readonly strings: Translator,
  ) {}

  show(count: number): void {
    if (count <= 0) {
      this.clear();
      return;
    }
    if (this.#shown === null || this.doc.title !== this.#shown) this.#original = this.doc.title;
    this.#shown = this.strings.plural('newMessageTitle', count, { title: this.#original ?? '' });
    this.doc.title = this.#shown;
  }

  clear(): void {
    if (this.#shown !== null && this.doc.title === this.#shown && this.#original !== null) this.doc.title = this.#original;
    this.#shown = null;
    this.#original = null;
  }

  get active(): boolean {
    return this.#shown !== null;
  }
}
