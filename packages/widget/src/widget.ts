import type { ConversationEvent, ConversationSummary, EventInput, WidgetConfig } from '@parley/protocol';
import { type ExpiringToken, ParleyApiError, ParleyConnectionError, RealtimeClient, type RealtimeState, type RestClient, backoffDelay, createRestClient, createTokenSource } from '@parley/sdk';
import { type Action, type Body, type ConnectionState, type ConversationInfo, currentConversation, initialState, owedReceipts, reduce, unreadMessages, type WidgetState } from './state.ts';
import { DeviceStore } from './storage.ts';
import { pickLocale, translator } from './strings.ts';
import { TitleNotice } from './title-notice.ts';
import { WidgetView } from './view.ts';

export interface WidgetOptions {
  /** Where Parley is (the origin the script was loaded from). */
  baseUrl: string;
  /** The account's public widget key. */
  widgetKey: string;
  /** For authenticated consumers: a brand-signed JWT, asked for at every new session. */
  brandToken?: () => string | Promise<string>;
  /** Overrides the account's language setting. */
  locale?: string;
  document?: Document;
}

interface Outgoing {
  /** The clientMessageId; the message's key is `c:<id>`. */
  id: string;
  text?: string;
  file?: File;
}

/** How many conversations are read at start (and per "show earlier"). */
const HISTORY_BATCH = 5;
const RECEIPT_DELAY_MS = 250;
const TYPING_TIMEOUT_MS = 20_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Errors worth trying again later: the network, or a server saying so. */
function retryable(error: unknown): boolean {
  if (error instanceof ParleyConnectionError) return error.reason !== 'closed';
  if (error instanceof ParleyApiError) return error.retryable;
  return error instanceof TypeError; // fetch's network failure
}

async function withRetry<T>(task: () => Promise<T>, onRetry?: (attempt: number) => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await task();
    } catch (error) {
      if (!retryable(error)) throw error;
      onRetry?.(attempt);
      await sleep(backoffDelay(attempt, { initialDelayMs: 1_000, maxDelayMs: 15_000 }));
    }
  }
}

const toInfo = (c: ConversationSummary): ConversationInfo => ({ id: c.id, state: c.state, createdAt: c.createdAt });

function connectionOf(state: RealtimeState): ConnectionState {
  if (state === 'open') return 'open';
  if (state === 'closed') return 'failed';
  return state;
}

/**
 * The widget's controller: loads the account's settings, keeps the consumer's session (device token or brand JWT),
 * reads the history over REST, follows the current conversation over the SDK's realtime client (which resumes and
 * resends its outbox by itself), and turns state changes into DOM updates, receipts and the title notice.
 * A first-time visitor costs the server nothing until they open the widget; a conversation is started only when
 * they first write.
 */
export class ParleyWidget {
  readonly #options: WidgetOptions;
  readonly #doc: Document;
  readonly #store: DeviceStore;
  #state: WidgetState = initialState;
  #view: WidgetView | undefined;
  #notice: TitleNotice | undefined;
  #rest: RestClient | undefined;
  #realtime: RealtimeClient | undefined;
  #connecting: Promise<void> | undefined;
  #starting: Promise<string> | undefined;
  #chain: Promise<void> = Promise.resolve();
  #older: ConversationSummary[] = [];
  readonly #subscribed = new Set<string>();
  readonly #outgoing = new Map<string, Outgoing>();
  readonly #receiptsInFlight = new Set<string>();
  readonly #images = new Map<string, Promise<string>>();
  #receiptTimer: ReturnType<typeof setTimeout> | undefined;
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  #lastComposing = 0;
  /** The closed conversation whose CSAT survey is showing. */
  #survey: string | null = null;

  constructor(options: WidgetOptions) {
    this.#options = options;
    this.#doc = options.document ?? document;
    this.#store = new DeviceStore(options.widgetKey);
  }

  get state(): WidgetState {
    return this.#state;
  }

  /** Loads the settings and draws the launcher; connects at once for a returning or authenticated consumer. */
  async start(): Promise<void> {
    const publicRest = createRestClient({ baseUrl: this.#options.baseUrl });
    let config: WidgetConfig;
    try {
      config = await withRetry(() => publicRest.call('getWidgetConfig', { query: { widgetKey: this.#options.widgetKey } }));
    } catch (error) {
      console.error(`Parley: the widget could not load its settings (${error instanceof Error ? error.message : String(error)}). Check data-widget-key.`);
      return;
    }
    const settings = config.settings;
    const strings = translator(pickLocale([this.#options.locale, settings.locale, ...(navigator.languages ?? [navigator.language])]));
    this.#view = new WidgetView(this.#doc, { title: settings.title ?? config.accountName, greeting: settings.greeting, primaryColor: settings.primaryColor, position: settings.position }, strings, {
      toggle: (open) => this.toggle(open),
      send: (text) => this.#write({ text }),
      attach: (file) => this.#write({ file }),
      retry: (key) => this.#retry(key),
      publishText: (text) => this.#write({ text }),
      typing: () => this.#composing(),
      loadEarlier: () => void this.#loadEarlier(),
      download: (file) => void this.#download(file.fileId, file.name),
      imageUrl: (fileId) => this.#imageUrl(fileId),
      rate: (score, comment) => void this.#rate(score, comment),
      skipSurvey: () => {
        this.#store.skippedSurvey = this.#survey;
        this.#survey = null;
      },
    });
    this.#notice = new TitleNotice(this.#doc, strings);
    this.#doc.body.append(this.#view.host);
    this.#doc.addEventListener('visibilitychange', () => this.#afterChange());
    const win = this.#doc.defaultView;
    win?.addEventListener('online', () => this.#dispatch({ type: 'offline', offline: false }));
    win?.addEventListener('offline', () => this.#dispatch({ type: 'offline', offline: true }));
    this.#dispatch({ type: 'offline', offline: win?.navigator.onLine === false });
    const pending = this.#store.pending;
    for (const item of pending) {
      this.#dispatch({ type: 'queued', key: `c:${item.key}`, body: { kind: 'text', text: item.text }, createdAt: item.createdAt });
    }
    if (this.#store.deviceToken || this.#options.brandToken || pending.length > 0) {
      void this.#connect().then(
        () => {
          // Written before a reload and never acknowledged: sent again with the same id (the server keeps one).
          for (const item of pending) {
            const message = this.#state.messages.find((m) => m.key === `c:${item.key}`);
            if (message?.pending) this.#enqueue({ id: item.key, text: item.text });
            else this.#store.removePending(item.key);
          }
        },
        () => undefined,
      );
    }
  }

  /** Opens or closes the window (also `window.parley.open()` / `close()`). */
  toggle(open: boolean): void {
    if (!this.#view || open === this.#state.open) return;
    this.#dispatch({ type: 'open', open });
    if (open) {
      this.#connect().catch(() => undefined);
      this.#view.focusComposer();
    } else {
      this.#view.focusLauncher();
    }
  }

  // ---------- state ----------

  #dispatch(action: Action): void {
    const next = reduce(this.#state, action);
    if (next === this.#state) return;
    this.#state = next;
    this.#view?.render(next);
    this.#afterChange();
  }

  #afterChange(): void {
    if (this.#view?.reading) this.#notice?.clear();
    else if (this.#notice?.active) this.#notice.show(unreadMessages(this.#state).length);
    clearTimeout(this.#receiptTimer);
    this.#receiptTimer = setTimeout(() => this.#sendReceipts(), RECEIPT_DELAY_MS);
  }

  // ---------- session, history, realtime ----------

  #connect(): Promise<void> {
    this.#connecting ??= this.#openSession().catch((error: unknown) => {
      console.error('Parley: the widget could not start a session', error);
      this.#dispatch({ type: 'connection', connection: 'failed' });
      this.#connecting = undefined;
      throw error;
    });
    return this.#connecting;
  }

  async #openSession(): Promise<void> {
    const { baseUrl, widgetKey } = this.#options;
    this.#dispatch({ type: 'connection', connection: 'connecting' });
    const publicRest = createRestClient({ baseUrl });
    const newSession = async (): Promise<ExpiringToken> => {
      const brandToken = this.#options.brandToken ? await this.#options.brandToken() : undefined;
      const deviceToken = this.#store.deviceToken;
      const session = await publicRest.consumerSession({ widgetKey, ...(deviceToken ? { deviceToken } : {}), ...(brandToken ? { brandToken } : {}) });
      if (session.deviceToken) this.#store.deviceToken = session.deviceToken;
      this.#dispatch({ type: 'session', consumerId: session.consumerId });
      return { token: session.accessToken, expiresAt: Date.parse(session.accessTokenExpiresAt) };
    };
    const initial = await withRetry(newSession, (attempt) => attempt > 0 && this.#dispatch({ type: 'connection', connection: 'failed' }));
    const tokens = createTokenSource({ initial, renew: newSession });
    const rest = createRestClient({ baseUrl, getAccessToken: tokens.getAccessToken });
    this.#rest = rest;
    const realtime = new RealtimeClient({
      baseUrl,
      getAccessToken: tokens.getAccessToken,
      reconnect: { initialDelayMs: 500, maxDelayMs: 8_000 },
      pingIntervalMs: 15_000,
      requestTimeoutMs: 8_000,
    });
    this.#realtime = realtime;
    realtime.on('state', (state) => this.#dispatch({ type: 'connection', connection: connectionOf(state) }));
    realtime.on('event', (event) => this.#received(event));
    realtime.on('chatState', (notice) => {
      if (notice.role === 'consumer') return;
      clearTimeout(this.#typingTimer);
      const active = notice.chatState === 'composing';
      if (active) this.#typingTimer = setTimeout(() => this.#dispatch({ type: 'typing', name: null, active: false }), TYPING_TIMEOUT_MS);
      const name = this.#state.messages.find((m) => m.authorId === notice.participantId)?.authorName ?? null;
      this.#dispatch({ type: 'typing', name, active });
    });
    realtime.on('error', () => {}); // the client reconnects by itself; the banner shows the state

    const all: ConversationSummary[] = [];
    await withRetry(async () => {
      all.length = 0;
      let cursor: string | undefined;
      do {
        const page = await rest.listConversations({ state: 'all', limit: 50, ...(cursor ? { cursor } : {}) });
        all.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor && all.length < 1_000);
    });
    this.#older = all.slice(HISTORY_BATCH);
    const lastSequences = await withRetry(() => this.#loadConversations(all.slice(0, HISTORY_BATCH)));
    const current = currentConversation(this.#state);
    if (current) this.#subscribe(current.id, lastSequences.get(current.id));
    else if (all[0]?.state === 'closed') void this.#offerSurvey(all[0].id);
  }

  /** Reads conversations' events (oldest first, every page); returns each one's last sequence. */
  async #loadConversations(conversations: ConversationSummary[]): Promise<Map<string, number>> {
    const rest = this.#rest;
    const lastSequences = new Map<string, number>();
    if (!rest) return lastSequences;
    const events: ConversationEvent[] = [];
    for (const conversation of conversations) {
      let fromSeq = 0;
      for (;;) {
        const page = await rest.listEvents(conversation.id, { fromSeq, limit: 500 });
        events.push(...page.items);
        lastSequences.set(conversation.id, page.lastSequence);
        const last = page.items.at(-1);
        if (!page.hasMore || !last) break;
        fromSeq = last.sequence + 1;
      }
    }
    this.#dispatch({ type: 'conversations', conversations: conversations.map(toInfo), moreHistory: this.#older.length > 0 });
    this.#dispatch({ type: 'events', events });
    return lastSequences;
  }

  async #loadEarlier(): Promise<void> {
    const batch = this.#older.splice(0, HISTORY_BATCH);
    if (batch.length === 0) return;
    try {
      await this.#loadConversations(batch);
    } catch {
      this.#older.unshift(...batch);
    }
  }

  #subscribe(conversationId: string, lastSequence?: number): void {
    const realtime = this.#realtime;
    if (!realtime || this.#subscribed.has(conversationId)) return;
    this.#subscribed.add(conversationId);
    realtime.subscribe(conversationId, lastSequence === undefined ? {} : { lastSequence }).catch(() => this.#subscribed.delete(conversationId));
  }

  #received(event: ConversationEvent): void {
    this.#dispatch({ type: 'events', events: [event] });
    if (event.type === 'conversation_state') {
      if (event.state === 'closed') void this.#offerSurvey(event.conversationId);
      else if (event.conversationId === this.#survey) this.#hideSurvey();
    }
    const fromSomeoneElse = (event.type === 'content' || event.type === 'rich_content') && event.originator.role !== 'consumer';
    if (fromSomeoneElse && !this.#view?.reading) this.#notice?.show(unreadMessages(this.#state).length);
  }

  /** Continues the open conversation, or starts one (the consumer's first message, or after one was closed). */
  async #conversation(): Promise<string> {
    const current = currentConversation(this.#state);
    if (current) {
      this.#subscribe(current.id);
      return current.id;
    }
    this.#starting ??= withRetry(async () => {
      const rest = this.#rest;
      if (!rest) throw new Error('no session');
      const { conversation } = await rest.startConversation({ channel: 'web', device: deviceType() });
      this.#dispatch({ type: 'conversations', conversations: [toInfo(conversation)] });
      this.#subscribe(conversation.id);
      return conversation.id;
    }).finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  // ---------- sending ----------

  #write(content: { text?: string; file?: File }): void {
    // Writing again means moving on: the survey of the closed conversation goes away.
    this.#hideSurvey();
    const id = crypto.randomUUID();
    const createdAt = new Date().toISOString();
    let body: Body;
    if (content.file) body = { kind: 'file', file: { fileId: null, name: content.file.name, contentType: content.file.type, size: content.file.size } };
    else body = { kind: 'text', text: content.text ?? '' };
    this.#dispatch({ type: 'queued', key: `c:${id}`, body, createdAt });
    if (content.text !== undefined) this.#store.addPending({ key: id, text: content.text, createdAt });
    this.#lastComposing = 0;
    this.#enqueue({ id, ...content });
  }

  /**
   * Messages go out one after another, in the order written: each waits for the session and its conversation, then
   * joins the SDK's outbox (which keeps the order across reconnects and resends with the same clientMessageId).
   */
  #enqueue(outgoing: Outgoing): void {
    this.#outgoing.set(outgoing.id, outgoing);
    this.#chain = this.#chain.then(() => this.#hand(outgoing)).catch((error: unknown) => this.#failed(outgoing, error));
  }

  async #hand(outgoing: Outgoing): Promise<void> {
    await this.#connect();
    const conversationId = await this.#conversation();
    const key = `c:${outgoing.id}`;
    this.#dispatch({ type: 'assigned', key, conversationId });
    const rest = this.#rest;
    const realtime = this.#realtime;
    if (!rest || !realtime) throw new Error('no session');
    let event: EventInput;
    if (outgoing.file) {
      const uploaded = await rest.uploadFile(conversationId, outgoing.file);
      this.#dispatch({ type: 'uploaded', key, fileId: uploaded.id });
      event = { type: 'content', content: { contentType: 'hosted/file', fileId: uploaded.id } };
    } else {
      event = { type: 'content', content: { contentType: 'text/plain', message: outgoing.text ?? '' } };
    }
    realtime.send({ conversationId, clientMessageId: outgoing.id, event }).then(
      (ack) => {
        this.#dispatch({ type: 'acked', key, conversationId, sequence: ack.sequence });
        this.#store.removePending(outgoing.id);
        this.#outgoing.delete(outgoing.id);
      },
      (error: unknown) => {
        if (error instanceof ParleyApiError && error.code === 'CONVERSATION_CLOSED') {
          // Closed while the message was on its way: it starts the next conversation.
          const closed = this.#state.conversations.find((c) => c.id === conversationId);
          if (closed) this.#dispatch({ type: 'conversations', conversations: [{ ...closed, state: 'closed' }] });
          this.#enqueue(outgoing);
          return;
        }
        this.#failed(outgoing, error);
      },
    );
  }

  #failed(outgoing: Outgoing, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#dispatch({ type: 'failed', key: `c:${outgoing.id}`, error: message });
  }

  #retry(key: string): void {
    const outgoing = this.#outgoing.get(key.replace(/^c:/, ''));
    if (!outgoing) return;
    this.#dispatch({ type: 'retrying', key });
    this.#enqueue(outgoing);
  }

  #composing(): void {
    const current = currentConversation(this.#state);
    const realtime = this.#realtime;
    if (!current || !realtime || Date.now() - this.#lastComposing < 3_000) return;
    this.#lastComposing = Date.now();
    realtime.chatState(current.id, 'composing').catch(() => undefined);
  }

  // ---------- CSAT survey and conversions ----------

  /** Shows the survey of a closed conversation when the server says it is pending (and it was not skipped here). */
  async #offerSurvey(conversationId: string): Promise<void> {
    const rest = this.#rest;
    if (!rest || this.#store.skippedSurvey === conversationId) return;
    try {
      const survey = await rest.call('getCsat', { params: { conversationId } });
      if (survey.status !== 'pending' || currentConversation(this.#state)) return;
      this.#survey = conversationId;
      this.#view?.showSurvey(true);
    } catch {
      // No survey then; the conversation goes on without one.
    }
  }

  #hideSurvey(): void {
    if (!this.#survey) return;
    this.#survey = null;
    this.#view?.showSurvey(false);
  }

  async #rate(score: number, comment: string): Promise<void> {
    const conversationId = this.#survey;
    const rest = this.#rest;
    if (!conversationId || !rest) return;
    try {
      await rest.call('submitCsat', { params: { conversationId }, body: { score, ...(comment ? { comment: comment.slice(0, 1000) } : {}) } });
      this.#view?.surveyResult('thanks');
    } catch (error) {
      // Answered elsewhere, or too late: nothing left to ask.
      if (error instanceof ParleyApiError && error.code === 'CONFLICT') this.#hideSurvey();
      else this.#view?.surveyResult('failed');
    }
  }

  /**
   * `window.parley.conversion({ type, value, currency, orderId })`: reports a purchase or another goal of this
   * consumer (a session is opened if there is none yet). `orderId` makes it idempotent, also with the brand's server.
   */
  async reportConversion(conversion: { type: string; value?: number; currency?: string; orderId?: string }): Promise<{ id: string; attributed: boolean }> {
    await this.#connect();
    const rest = this.#rest;
    if (!rest) throw new Error('Parley: no session');
    const { type, value, currency, orderId } = conversion;
    const body = { type, ...(value !== undefined ? { value } : {}), ...(currency ? { currency } : {}), ...(orderId !== undefined ? { externalId: String(orderId) } : {}) };
    const recorded = await withRetry(() => rest.call('reportConversion', { body }));
    return { id: recorded.id, attributed: recorded.attribution !== null };
  }

  // ---------- receipts ----------

  /** Acknowledges what arrived (`accept`) and, while the window is open on a visible page, what was read (`read`). */
  #sendReceipts(): void {
    const realtime = this.#realtime;
    if (!realtime || this.#state.connection !== 'open') return;
    for (const owed of owedReceipts(this.#state, this.#view?.reading ?? false)) {
      const flight = (s: number) => `${owed.status}:${owed.conversationId}:${s}`;
      const sequences = owed.sequences.filter((s) => !this.#receiptsInFlight.has(flight(s))).slice(0, 500);
      if (sequences.length === 0) continue;
      for (const s of sequences) this.#receiptsInFlight.add(flight(s));
      realtime
        .receipt({ conversationId: owed.conversationId, status: owed.status, sequences })
        .then(
          () => this.#dispatch({ type: 'receipted', conversationId: owed.conversationId, status: owed.status, sequences }),
          () => undefined,
        )
        .finally(() => {
          for (const s of sequences) this.#receiptsInFlight.delete(flight(s));
        });
    }
  }

  // ---------- files ----------

  #imageUrl(fileId: string): Promise<string> {
    let url = this.#images.get(fileId);
    if (!url) {
      url = (async () => {
        const rest = this.#rest;
        if (!rest) throw new Error('no session');
        return URL.createObjectURL(await rest.downloadFile(fileId));
      })();
      url.catch(() => this.#images.delete(fileId));
      this.#images.set(fileId, url);
    }
    return url;
  }

  async #download(fileId: string | null, name: string): Promise<void> {
    if (!fileId) return;
    const url = await this.#imageUrl(fileId);
    const link = this.#doc.createElement('a');
    link.href = url;
    link.download = name;
    link.rel = 'noopener';
    link.click();
  }
}

/** Desktop or mobile web, for the brand's analytics (a phone or tablet: a coarse pointer, or a mobile user agent). */
function deviceType(): 'desktop_web' | 'mobile_web' {
  const coarse = typeof matchMedia === 'function' && matchMedia('(pointer: coarse)').matches;
  return coarse || /Mobi|Android|iPhone|iPad/i.test(navigator.userAgent) ? 'mobile_web' : 'desktop_web';
}
