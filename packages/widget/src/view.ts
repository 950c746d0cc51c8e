import type { QuickReplies } from '@parley/protocol';
import { accentOnWhite, darken, textOn } from './colors.ts';
import { h, icon, icons } from './dom.ts';
import { type FileRef, type Message, type Row, type WidgetState, activeQuickReplies, agentName, ownStatus, timeline, unreadMessages } from './state.ts';
import type { Translator } from './strings.ts';
import { cardText, renderCard } from './structured-content.ts';
import { styles } from './styles.ts';

export interface ViewHandlers {
  toggle(open: boolean): void;
  send(text: string): void;
  attach(file: File): void;
  retry(key: string): void;
  /** A quick reply or a card button with a publishText action. */
  publishText(text: string): void;
  typing(): void;
  loadEarlier(): void;
  download(file: FileRef): void;
  /** An object URL for an image file (downloaded with the consumer's credentials). */
  imageUrl(fileId: string): Promise<string>;
  /** The consumer rated the closed conversation (CSAT, 1 to 5) in the survey. */
  rate(score: number, comment: string): void;
  skipSurvey(): void;
}

export interface ViewSettings {
  title: string;
  greeting: string;
  primaryColor: string;
  position: 'bottom-right' | 'bottom-left';
}

interface RenderedRow {
  el: HTMLElement;
  meta?: HTMLElement;
  author?: HTMLElement;
  metaSignature?: string;
}

const IMAGE_TYPES = /^image\/(png|jpe?g|gif|webp)$/;

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * The widget's DOM, inside an open shadow root on its host element: a launcher with an unread badge, and a dialog
 * with a header, a `role="log"` message list (a polite live region, so new messages are announced), typing, quick
 * replies and a composer. `render(state)` patches the DOM: rows are created once and kept (so the live region
 * announces only new ones), their status line is updated in place.
 */
export class WidgetView {
  readonly host: HTMLElement;
  readonly #root: ShadowRoot;
  readonly #t: Translator;
  readonly #handlers: ViewHandlers;
  readonly #settings: ViewSettings;
  readonly #time: Intl.DateTimeFormat;
  readonly #date: Intl.DateTimeFormat;
  readonly #rows = new Map<string, RenderedRow>();

  readonly #launcher: HTMLButtonElement;
  readonly #launcherIcon: HTMLElement;
  readonly #badge: HTMLElement;
  readonly #window: HTMLElement;
  readonly #subtitle: HTMLElement;
  readonly #banner: HTMLElement;
  readonly #log: HTMLElement;
  readonly #list: HTMLElement;
  readonly #earlier: HTMLButtonElement;
  readonly #typing: HTMLElement;
  readonly #typingText: HTMLElement;
  readonly #quick: HTMLElement;
  readonly #input: HTMLTextAreaElement;
  readonly #file: HTMLInputElement;
  #quickKey: string | null = null;
  #wasOpen = false;
  #survey: HTMLFormElement | undefined;

  constructor(doc: Document, settings: ViewSettings, strings: Translator, handlers: ViewHandlers) {
    this.#t = strings;
    this.#handlers = handlers;
    this.#settings = settings;
    this.#time = new Intl.DateTimeFormat(strings.locale, { hour: 'numeric', minute: '2-digit' });
    this.#date = new Intl.DateTimeFormat(strings.locale, { day: 'numeric', month: 'short', year: 'numeric' });
    const t = strings.t;

    this.host = doc.createElement('parley-widget');
    if (settings.position === 'bottom-left') this.host.classList.add('pw-left');
    this.#root = this.host.attachShadow({ mode: 'open' });
    const style = doc.createElement('style');
    const primary = settings.primaryColor;
    const onPrimary = textOn(primary);
    style.textContent = `${styles}\n.pw-root { --pw-primary: ${primary}; --pw-primary-dark: ${darken(primary, 0.15)}; --pw-on-primary: ${onPrimary}; --pw-on-primary-soft: ${onPrimary === '#ffffff' ? 'rgba(255,255,255,.18)' : 'rgba(0,0,0,.08)'}; --pw-accent: ${accentOnWhite(primary)}; }`;

    this.#badge = h('span', { class: 'pw-badge', 'aria-hidden': 'true', hidden: true });
    this.#launcherIcon = h('span', { class: 'pw-launcher-icon' }, icon(icons.chat));
    this.#launcher = h('button', { type: 'button', class: 'pw-launcher', 'aria-expanded': 'false', 'aria-controls': 'pw-window', 'aria-label': t('openChat') }, this.#launcherIcon, this.#badge);
    this.#launcher.addEventListener('click', () => handlers.toggle(this.#window.hidden));

    const initial = (settings.title.trim()[0] ?? 'P').toUpperCase();
    const closeButton = h('button', { type: 'button', class: 'pw-icon-button', 'aria-label': t('closeChat') }, icon(icons.close));
    closeButton.addEventListener('click', () => handlers.toggle(false));
    this.#subtitle = h('p', { class: 'pw-subtitle' }, t('defaultSubtitle'));
    const header = h(
      'header',
      { class: 'pw-header' },
      h('div', { class: 'pw-avatar', 'aria-hidden': 'true' }, initial),
      h('div', { class: 'pw-titles' }, h('h2', { class: 'pw-title', id: 'pw-title' }, settings.title), this.#subtitle),
      closeButton,
    );
    this.#banner = h('div', { class: 'pw-banner', role: 'status', hidden: true });

    this.#earlier = h('button', { type: 'button', class: 'pw-earlier', hidden: true }, t('showEarlier'));
    this.#earlier.addEventListener('click', () => handlers.loadEarlier());
    this.#list = h('div', { class: 'pw-rows' });
    this.#log = h('div', { class: 'pw-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': t('conversationLog'), tabindex: '0' }, this.#earlier, this.#list);

    this.#typingText = h('span');
    this.#typing = h('div', { class: 'pw-typing', hidden: true }, h('span', { class: 'pw-dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), this.#typingText);
    this.#quick = h('div', { class: 'pw-quick', role: 'group', 'aria-label': t('suggestedReplies'), hidden: true });

    this.#file = h('input', { type: 'file', hidden: true, tabindex: '-1', 'aria-hidden': 'true' });
    this.#file.addEventListener('change', () => {
      const file = this.#file.files?.[0];
      if (file) handlers.attach(file);
      this.#file.value = '';
    });
    const attach = h('button', { type: 'button', class: 'pw-icon-button pw-attach', 'aria-label': t('attach') }, icon(icons.attach));
    attach.addEventListener('click', () => this.#file.click());
    this.#input = h('textarea', { class: 'pw-input', id: 'pw-input', rows: '1', placeholder: t('placeholder'), 'aria-label': t('messageLabel'), maxlength: '10000' });
    const send = h('button', { type: 'submit', class: 'pw-icon-button pw-send', 'aria-label': t('send') }, icon(icons.send));
    const composer = h('form', { class: 'pw-composer' }, attach, this.#file, this.#input, send);
    composer.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#submit();
    });
    this.#input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.#submit();
      }
    });
    this.#input.addEventListener('input', () => {
      this.#autosize();
      if (this.#input.value.trim()) handlers.typing();
    });

    this.#window = h(
      'section',
      { class: 'pw-window', id: 'pw-window', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'pw-title', hidden: true },
      header,
      this.#banner,
      this.#log,
      this.#typing,
      this.#quick,
      composer,
    );
    const root = h('div', { class: 'pw-root', lang: strings.locale }, this.#launcher, this.#window);
    root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.#window.hidden) {
        event.stopPropagation();
        handlers.toggle(false);
      }
    });
    this.#root.append(style, root);
  }

  /** Moves focus into the window (the composer), e.g. after opening. */
  focusComposer(): void {
    this.#input.focus();
  }

  focusLauncher(): void {
    this.#launcher.focus();
  }

  /**
   * The CSAT survey of the closed conversation, above the composer: five choices (a radio group), an optional comment,
   * Skip and Send. `false` removes it.
   */
  showSurvey(show: boolean): void {
    if (!show) {
      this.#survey?.remove();
      this.#survey = undefined;
    }
    if (!show || this.#survey) return;
    const t = this.#t.t;
    const scores = h('div', { class: 'pw-scores' });
    for (let score = 1; score <= 5; score++) {
      const name = t(`score${score}` as 'score1');
      scores.append(
        h(
          'label',
          { class: 'pw-score', title: name },
          h('input', { type: 'radio', name: 'pw-score', value: String(score), class: 'pw-sr' }),
          h('span', { 'aria-hidden': 'true' }, String(score)),
          h('span', { class: 'pw-sr' }, `${score} – ${name}`),
        ),
      );
    }
    const comment = h('textarea', { maxlength: '1000', 'aria-label': t('surveyComment'), placeholder: t('surveyComment') });
    const send = h('button', { type: 'submit', class: 'pw-survey-send', disabled: true }, t('surveySend'));
    const skip = h('button', { type: 'button', class: 'pw-survey-skip' }, t('surveySkip'));
    const status = h('p', { class: 'pw-survey-status', role: 'alert' });
    const form = h(
      'form',
      { class: 'pw-survey' },
      h('fieldset', {}, h('legend', {}, t('surveyTitle')), scores, h('div', { class: 'pw-scale', 'aria-hidden': 'true' }, h('span', {}, t('score1')), h('span', {}, t('score5')))),
      comment,
      h('div', { class: 'pw-survey-actions' }, skip, send),
      status,
    );
    scores.addEventListener('change', () => {
      send.disabled = false;
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const picked = form.querySelector<HTMLInputElement>('input[name="pw-score"]:checked');
      if (!picked) return;
      send.disabled = true;
      status.textContent = '';
      this.#handlers.rate(Number(picked.value), comment.value.trim());
    });
    skip.addEventListener('click', () => {
      this.showSurvey(false);
      this.focusComposer();
      this.#handlers.skipSurvey();
    });
    this.#survey = form;
    this.#quick.after(form);
  }

  /** After `rate`: thanks (the survey becomes a short note), or a failure the consumer can retry. */
  surveyResult(result: 'thanks' | 'failed'): void {
    const form = this.#survey;
    if (!form) return;
    if (result === 'failed') {
      const status = form.querySelector('.pw-survey-status');
      if (status) status.textContent = this.#t.t('surveyFailed');
      const send = form.querySelector<HTMLButtonElement>('.pw-survey-send');
      if (send) send.disabled = false;
      return;
    }
    const hadFocus = this.#root.activeElement !== null && form.contains(this.#root.activeElement);
    form.replaceChildren(h('p', { class: 'pw-survey-thanks', role: 'status' }, this.#t.t('surveyThanks')));
    if (hadFocus) this.focusComposer();
  }

  /** Whether the window is open and the page is visible: what the consumer can read now. */
  get reading(): boolean {
    return !this.#window.hidden && this.host.ownerDocument.visibilityState === 'visible';
  }

  render(state: WidgetState): void {
    const t = this.#t.t;
    const open = state.open;
    this.host.classList.toggle('pw-open', open);
    this.#window.hidden = !open;
    this.#launcher.setAttribute('aria-expanded', String(open));
    const unread = open ? 0 : unreadMessages(state).length;
    this.#launcher.setAttribute('aria-label', open ? t('closeChat') : unread > 0 ? this.#t.plural('openChatUnread', unread) : t('openChat'));
    this.#badge.hidden = unread === 0;
    this.#badge.textContent = unread > 9 ? '9+' : String(unread);
    this.#launcherIcon.replaceChildren(icon(open ? icons.chevronDown : icons.chat));

    const agent = agentName(state);
    this.#subtitle.textContent = agent ? t('agentSubtitle', { name: agent }) : t('defaultSubtitle');
    const banner = state.offline ? t('offline') : state.connection === 'reconnecting' ? t('reconnecting') : state.connection === 'failed' ? t('cannotConnect') : '';
    this.#banner.hidden = banner === '';
    if (this.#banner.textContent !== banner) this.#banner.textContent = banner;
    this.#earlier.hidden = !state.moreHistory;

    const atBottom = this.#log.scrollHeight - this.#log.scrollTop - this.#log.clientHeight < 48;
    const heightBefore = this.#log.scrollHeight;
    const firstBefore = this.#list.firstElementChild;
    const addedOwn = this.#renderRows(state, timeline(state));
    if (open && (!this.#wasOpen || atBottom || addedOwn)) this.#log.scrollTop = this.#log.scrollHeight;
    else if (firstBefore && this.#list.firstElementChild !== firstBefore && !atBottom) this.#log.scrollTop += this.#log.scrollHeight - heightBefore;
    this.#wasOpen = open;

    this.#typing.hidden = !state.typing;
    const typingText = state.typing ? (state.typing.name ? t('typing', { name: state.typing.name }) : t('someoneTyping')) : '';
    if (this.#typingText.textContent !== typingText) this.#typingText.textContent = typingText;
    this.#renderQuickReplies(activeQuickReplies(state));
  }

  #submit(): void {
    const text = this.#input.value.trim();
    if (!text) return;
    this.#input.value = '';
    this.#autosize();
    this.#handlers.send(text);
  }

  #autosize(): void {
    this.#input.style.height = 'auto';
    this.#input.style.height = `${Math.min(120, this.#input.scrollHeight + 2)}px`;
  }

  /** Puts the rows in order, creating the new ones; returns whether one of them is the consumer's own. */
  #renderRows(state: WidgetState, rows: Row[]): boolean {
    const seen = new Set<string>();
    let previous: Element | null = null;
    let addedOwn = false;
    for (const row of rows) {
      seen.add(row.key);
      let rendered = this.#rows.get(row.key);
      if (!rendered) {
        rendered = this.#createRow(row);
        this.#rows.set(row.key, rendered);
        if (row.kind === 'message' && row.message.own) addedOwn = true;
      }
      if (row.kind === 'message') this.#updateMessage(state, rendered, row.message, row.showAuthor, row.showStatus);
      const expectedNext: Element | null = previous ? previous.nextElementSibling : this.#list.firstElementChild;
      if (expectedNext !== rendered.el) {
        if (previous) previous.after(rendered.el);
        else this.#list.prepend(rendered.el);
      }
      previous = rendered.el;
    }
    for (const [key, rendered] of this.#rows) {
      if (seen.has(key)) continue;
      rendered.el.remove();
      this.#rows.delete(key);
    }
    return addedOwn;
  }

  #createRow(row: Row): RenderedRow {
    const t = this.#t.t;
    switch (row.kind) {
      case 'separator': {
        const date = this.#date.format(new Date(row.createdAt));
        return { el: h('div', { class: 'pw-separator', role: 'separator' }, row.earlier ? t('earlierConversation', { date }) : t('conversationStarted', { date })) };
      }
      case 'greeting':
        return { el: h('div', { class: 'pw-row pw-their pw-greeting' }, h('div', { class: 'pw-author' }, this.#settings.title), h('div', { class: 'pw-bubble' }, this.#settings.greeting)) };
      case 'notice': {
        const name = row.notice.name ?? t('agent');
        const kind = row.notice.kind;
        const text = kind === 'system' ? (row.notice.text ?? '') : kind === 'joined' ? t('joined', { name }) : kind === 'left' ? t('left', { name }) : kind === 'closed' ? t('closed') : t('reopened');
        return { el: h('div', { class: 'pw-notice' }, text) };
      }
      case 'message':
        return this.#createMessage(row.message);
    }
  }

  #createMessage(message: Message): RenderedRow {
    const t = this.#t.t;
    const author = h('div', { class: 'pw-author' }, message.own ? t('you') : (message.authorName ?? t('agent')));
    const meta = h('div', { class: 'pw-meta' });
    const el = h(
      'div',
      { class: `pw-row ${message.own ? 'pw-own' : 'pw-their'}`, 'data-key': message.key },
      message.own ? h('span', { class: 'pw-sr' }, `${t('you')}:`) : author,
      this.#body(message),
      meta,
    );
    return { el, meta, author };
  }

  #body(message: Message): HTMLElement {
    const body = message.body;
    if (body.kind === 'text') return h('div', { class: 'pw-bubble' }, body.text);
    if (body.kind === 'card') {
      const card = renderCard(body.content, {
        publishText: (text) => this.#handlers.publishText(text),
        openLink: (uri) => window.open(uri, '_blank', 'noopener,noreferrer'),
        mapLabel: this.#t.t('openMap'),
      });
      card.setAttribute('aria-label', body.fallbackText ?? (cardText(body.content) || this.#t.t('card')));
      card.setAttribute('role', 'group');
      return card;
    }
    const file = body.file;
    const label = h('span', {}, file.name, ' ', h('span', { class: 'pw-file-size' }, `(${formatSize(file.size)})`));
    if (message.own || !file.fileId) return h('div', { class: 'pw-bubble' }, h('span', { class: 'pw-file' }, icon(icons.file), label), file.caption ? h('div', {}, file.caption) : null);
    const fileId = file.fileId;
    const button = h('button', { type: 'button', class: 'pw-file', 'aria-label': this.#t.t('download', { name: file.name }) }, icon(icons.file), label);
    button.addEventListener('click', () => this.#handlers.download(file));
    const bubble = h('div', { class: 'pw-bubble' }, button, file.caption ? h('div', {}, file.caption) : null);
    if (IMAGE_TYPES.test(file.contentType)) {
      void this.#handlers.imageUrl(fileId).then(
        (url) => bubble.prepend(h('img', { class: 'pw-thumb', src: url, alt: file.caption ?? file.name })),
        () => undefined,
      );
    }
    return bubble;
  }

  #updateMessage(state: WidgetState, rendered: RenderedRow, message: Message, showAuthor: boolean, showStatus: boolean): void {
    if (rendered.author && !message.own) rendered.author.hidden = !showAuthor;
    rendered.el.classList.toggle('pw-pending', message.pending && !message.failed);
    rendered.el.classList.toggle('pw-failed', message.failed);
    const status = message.own ? ownStatus(state, message) : null;
    const signature = `${status}|${showStatus}|${message.createdAt}`;
    if (!rendered.meta || rendered.metaSignature === signature) return;
    rendered.metaSignature = signature;
    const t = this.#t.t;
    const parts: Node[] = [h('time', { datetime: message.createdAt }, this.#time.format(new Date(message.createdAt)))];
    if (status) {
      const label = { sending: t('sending'), failed: t('notSent'), sent: t('sent'), delivered: t('delivered'), read: t('read') }[status];
      const glyph = { sending: icons.clock, failed: icons.alert, sent: icons.check, delivered: icons.checks, read: icons.checks }[status];
      const visibleText = showStatus ? label : '';
      parts.push(h('span', { class: `pw-status pw-status-${status}`, 'data-status': status }, icon(glyph), visibleText ? h('span', {}, visibleText) : h('span', { class: 'pw-sr' }, label)));
      if (status === 'failed') {
        const retry = h('button', { type: 'button', class: 'pw-retry' }, t('retry'));
        retry.addEventListener('click', () => this.#handlers.retry(message.key));
        parts.push(retry);
      }
    }
    rendered.meta.replaceChildren(...parts);
  }

  #renderQuickReplies(active: { key: string; quickReplies: QuickReplies } | null): void {
    const key = active?.key ?? null;
    if (key === this.#quickKey) return;
    const hadFocus = this.#root.activeElement !== null && this.#quick.contains(this.#root.activeElement);
    this.#quickKey = key;
    this.#quick.hidden = !active;
    this.#quick.replaceChildren(
      ...(active?.quickReplies.replies ?? []).map((reply) => {
        const button = h('button', { type: 'button', title: reply.tooltip }, reply.title);
        const text = reply.click.actions[0]?.text ?? reply.title;
        button.addEventListener('click', () => this.#handlers.publishText(text));
        return button;
      }),
    );
    if (hadFocus) this.focusComposer();
  }
}
