import type { AgentState, ConversationEvent, ConversationSummary, QuickReplies } from '@parley/protocol';
import { ParleyApiError } from '@parley/sdk';
import { beep } from '../lib/beep.ts';
import { newClientId } from '../lib/format.ts';
import { isConsumerMessage, unreadConsumerMessages } from '../lib/timeline.ts';
import { type WorkspaceAction, type WorkspaceState, initialWorkspace, workspaceReducer } from '../lib/workspace-state.ts';
import type { Session } from './session.ts';

const SOUND_KEY = 'parley.console.sound';
/** How many recent events a conversation's subscription replays; older ones are paged in on demand. */
const REPLAY_WINDOW = 80;
const TYPING_SHOWN_MS = 6_000;
const RECONCILE_EVERY_MS = 30_000;

/** Describes an error for people: the server's message and its code. */
export function describeError(error: unknown): string {
  if (error instanceof ParleyApiError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The agent's live workspace: every open conversation of theirs and of the unassigned queue, each subscribed on the
 * realtime connection, plus their routing state, offers and (for supervisors) the live view. React reads it through
 * `useSyncExternalStore`; every change goes through the pure `workspaceReducer`.
 */
export class Workspace {
  readonly session: Session;
  #state: WorkspaceState;
  readonly #listeners = new Set<() => void>();
  readonly #subscribed = new Set<string>();
  readonly #readSent = new Map<string, number>();
  readonly #cleanups: Array<() => void> = [];
  #selectedId: string | null = null;
  #toastId = 0;
  #started = false;

  constructor(session: Session) {
    this.session = session;
    this.#state = { ...initialWorkspace(session.user.id), soundOn: localStorage.getItem(SOUND_KEY) !== 'off' };
  }

  get state(): WorkspaceState {
    return this.#state;
  }

  get me() {
    return this.session.user;
  }

  get isSupervisor(): boolean {
    return this.me.role === 'admin' || this.me.role === 'manager';
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getSnapshot = (): WorkspaceState => this.#state;

  dispatch(action: WorkspaceAction): void {
    const next = workspaceReducer(this.#state, action);
    if (next === this.#state) return;
    this.#state = next;
    for (const listener of this.#listeners) listener();
  }

  // ---------- lifecycle ----------

  start(): void {
    if (this.#started) return;
    this.#started = true;
    const rt = this.session.realtime;
    this.#cleanups.push(
      rt.on('state', (state, previous) => {
        this.dispatch({ type: 'connection', connection: state });
        // After a reconnect the SDK resumes every subscription by itself; the lists may have changed meanwhile.
        if (state === 'open' && previous === 'reconnecting') void this.reloadLists();
      }),
      rt.on('event', (event) => this.#onEvent(event)),
      rt.on('chatState', (notice) => {
        if (notice.role !== 'consumer') return;
        const until = notice.chatState === 'composing' ? Date.now() + TYPING_SHOWN_MS : 0;
        this.dispatch({ type: 'typing', conversationId: notice.conversationId, until });
      }),
      rt.on('conversation', (summary) => this.#onSummary(summary)),
      rt.on('agentState', (agent) => {
        const before = this.#state.agent;
        this.dispatch({ type: 'agent', agent });
        if (before && before.state !== agent.state && agent.state === 'offline' && agent.reason) this.toast('info', `You are offline: ${agent.reason}`);
      }),
      rt.on('offer', (offer) => {
        this.dispatch({ type: 'summary', summary: offer.conversation });
        this.dispatch({ type: 'offer', offer });
        this.#notify();
      }),
      rt.on('live', (live) => this.dispatch({ type: 'live', live })),
      rt.on('notice', (notice) => this.toast('error', `Webhook disabled: ${notice.url}. ${notice.reason}. See Admin › Webhooks.`)),
    );
    rt.connect();
    void this.reloadLists();
    void this.loadAgentState();
    const timer = setInterval(() => void this.reloadLists(), RECONCILE_EVERY_MS);
    this.#cleanups.push(() => clearInterval(timer));
  }

  stop(): void {
    this.#started = false;
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.session.realtime.close();
  }

  // ---------- loading ----------

  listError: unknown = null;

  async reloadLists(): Promise<void> {
    try {
      const [mine, queue] = await Promise.all([
        this.session.rest.listConversations({ scope: 'mine', state: 'open', limit: 100 }),
        this.session.rest.listConversations({ scope: 'unassigned', state: 'open', limit: 50 }),
      ]);
      this.listError = null;
      const summaries = [...mine.items, ...queue.items];
      const present = new Set(summaries.map((s) => s.id));
      for (const id of Object.keys(this.#state.conversations)) {
        if (!present.has(id) && id !== this.#selectedId) this.#forget(id);
      }
      this.dispatch({ type: 'lists', summaries });
      for (const summary of summaries) this.#follow(summary.id);
    } catch (error) {
      this.listError = error;
      this.dispatch({ type: 'lists', summaries: [] });
    }
  }

  /** Routing state; ROUTE_NOT_FOUND while the routing module is not deployed: the control then says so. */
  agentStateError: unknown = null;

  async loadAgentState(): Promise<void> {
    try {
      const agent = await this.session.rest.call('getMyState');
      this.agentStateError = null;
      this.dispatch({ type: 'agent', agent });
    } catch (error) {
      this.agentStateError = error;
      this.dispatch({ type: 'agent', agent: null });
    }
  }

  async setAgentState(state: AgentState, reason?: string): Promise<void> {
    const agent = await this.session.rest.call('setMyState', { body: { state, ...(reason ? { reason } : {}) } });
    this.agentStateError = null;
    this.dispatch({ type: 'agent', agent });
  }

  /** Opens a conversation in the view (also one outside the inbox, e.g. a past conversation of the consumer). */
  async select(conversationId: string | null): Promise<void> {
    const previous = this.#selectedId;
    this.#selectedId = conversationId;
    if (previous && previous !== conversationId) {
      const entry = this.#state.conversations[previous];
      if (entry && !this.#inInbox(entry.summary)) this.#forget(previous);
    }
    if (!conversationId) return;
    if (!this.#state.conversations[conversationId]) {
      const summary = await this.session.rest.getConversation(conversationId);
      this.dispatch({ type: 'summary', summary });
    }
    this.#follow(conversationId);
  }

  async loadOlder(conversationId: string): Promise<void> {
    const entry = this.#state.conversations[conversationId];
    if (!entry) return;
    const first = entry.events[0]?.sequence ?? entry.summary.lastSequence + 1;
    if (first <= 1) {
      this.dispatch({ type: 'events', conversationId, events: [], hasOlder: false });
      return;
    }
    const page = await this.session.rest.listEvents(conversationId, { beforeSeq: first, limit: 100 });
    this.dispatch({ type: 'events', conversationId, events: page.items, hasOlder: page.hasMore });
  }

  // ---------- actions ----------

  async send(conversationId: string, text: string, options: { audience?: 'all' | 'agents_and_managers'; quickReplies?: QuickReplies | null } = {}): Promise<void> {
    const clientMessageId = newClientId();
    const audience = options.audience ?? 'all';
    this.dispatch({ type: 'pending', message: { clientMessageId, conversationId, text, audience, createdAt: new Date().toISOString() } });
    try {
      await this.session.realtime.send({
        conversationId,
        clientMessageId,
        audience,
        event: { type: 'content', content: { contentType: 'text/plain', message: text, ...(options.quickReplies ? { quickReplies: options.quickReplies } : {}) } },
      });
    } catch (error) {
      this.dispatch({ type: 'pendingFailed', conversationId, clientMessageId, error: describeError(error) });
    }
  }

  async sendFile(conversationId: string, file: File, caption?: string): Promise<void> {
    const clientMessageId = newClientId();
    this.dispatch({ type: 'pending', message: { clientMessageId, conversationId, text: `📎 ${file.name}`, audience: 'all', createdAt: new Date().toISOString() } });
    try {
      const uploaded = await this.session.rest.uploadFile(conversationId, file, { fileName: file.name });
      await this.session.realtime.send({
        conversationId,
        clientMessageId,
        audience: 'all',
        event: { type: 'content', content: { contentType: 'hosted/file', fileId: uploaded.id, ...(caption ? { caption } : {}) } },
      });
    } catch (error) {
      this.dispatch({ type: 'pendingFailed', conversationId, clientMessageId, error: describeError(error) });
    }
  }

  dismissPending(conversationId: string, clientMessageId: string): void {
    this.dispatch({ type: 'dropPending', conversationId, clientMessageId });
  }

  typing(conversationId: string, chatState: 'composing' | 'pause'): void {
    void this.session.realtime.chatState(conversationId, chatState).catch(() => undefined);
  }

  /** Marks the consumer's messages read (the conversation is on screen and the tab visible). */
  markRead(conversationId: string): void {
    const entry = this.#state.conversations[conversationId];
    if (!entry || entry.summary.assignedAgentId !== this.me.id || entry.summary.state !== 'open') return;
    const unread = unreadConsumerMessages(entry.events).map((e) => e.sequence);
    const highest = unread.at(-1);
    if (highest === undefined || (this.#readSent.get(conversationId) ?? 0) >= highest) return;
    this.#readSent.set(conversationId, highest);
    void this.session.realtime.receipt({ conversationId, status: 'read', sequences: unread.slice(-500) }).catch(() => {
      this.#readSent.delete(conversationId);
    });
  }

  async take(conversationId: string): Promise<void> {
    await this.#claim(conversationId, () => this.session.rest.takeConversation(conversationId));
  }

  async close(conversationId: string): Promise<void> {
    this.#applySummary(await this.session.rest.closeConversation(conversationId));
  }

  async accept(conversationId: string): Promise<void> {
    try {
      await this.#claim(conversationId, () => this.session.rest.call('acceptOffer', { params: { conversationId } }));
    } finally {
      this.dispatch({ type: 'offerGone', conversationId });
    }
  }

  async decline(conversationId: string): Promise<void> {
    try {
      await this.session.rest.call('declineOffer', { params: { conversationId } });
    } finally {
      this.dispatch({ type: 'offerGone', conversationId });
    }
  }

  dismissOffer(conversationId: string): void {
    this.dispatch({ type: 'offerGone', conversationId });
  }

  async transfer(conversationId: string, input: { skillId?: string; agentId?: string; note?: string }): Promise<void> {
    this.#applySummary(await this.session.rest.call('transferConversation', { params: { conversationId }, body: input }));
  }

  setSound(on: boolean): void {
    localStorage.setItem(SOUND_KEY, on ? 'on' : 'off');
    this.dispatch({ type: 'sound', on });
    if (on) beep();
  }

  toast(tone: 'info' | 'success' | 'error', text: string, conversationId?: string): void {
    const id = ++this.#toastId;
    this.dispatch({ type: 'toast', toast: { id, tone, text, ...(conversationId ? { conversationId } : {}) } });
    setTimeout(() => this.dispatch({ type: 'dismissToast', id }), tone === 'error' ? 9_000 : 6_000);
  }

  dismissToast(id: number): void {
    this.dispatch({ type: 'dismissToast', id });
  }

  // ---------- internals ----------

  #inInbox(summary: ConversationSummary): boolean {
    return summary.state === 'open' && (summary.assignedAgentId === this.me.id || summary.assignedAgentId === null);
  }

  #applySummary(summary: ConversationSummary): void {
    this.#onSummary(summary);
  }

  /** Conversations I am taking or accepting right now: their assignment is no surprise. */
  readonly #claiming = new Set<string>();

  async #claim(conversationId: string, request: () => Promise<ConversationSummary>): Promise<void> {
    this.#claiming.add(conversationId);
    try {
      this.#applySummary(await request());
    } finally {
      setTimeout(() => this.#claiming.delete(conversationId), 2_000);
    }
  }

  #onSummary(summary: ConversationSummary): void {
    const before = this.#state.conversations[summary.id]?.summary;
    this.dispatch({ type: 'summary', summary });
    const newlyMine = summary.state === 'open' && summary.assignedAgentId === this.me.id && before?.assignedAgentId !== this.me.id;
    // Routing (or a manager) gave it to me: say so, unless I took or accepted it myself.
    if (newlyMine && !this.#claiming.has(summary.id) && this.#state.listsLoaded) {
      this.toast('success', 'A conversation was assigned to you', summary.id);
      this.#notify();
    }
    if (this.#inInbox(summary) || summary.id === this.#selectedId) this.#follow(summary.id);
    else this.#forget(summary.id);
  }

  #onEvent(event: ConversationEvent): void {
    const entry = this.#state.conversations[event.conversationId];
    this.dispatch({ type: 'events', conversationId: event.conversationId, events: [event] });
    if (entry && isConsumerMessage(event) && event.sequence > entry.baseline && this.#inInbox(entry.summary)) {
      const visible = this.#selectedId === event.conversationId && document.visibilityState === 'visible';
      if (!visible || entry.summary.assignedAgentId !== this.me.id) this.#notify();
    }
  }

  #notify(): void {
    if (this.#state.soundOn) beep();
  }

  #follow(conversationId: string): void {
    if (this.#subscribed.has(conversationId)) return;
    const entry = this.#state.conversations[conversationId];
    if (!entry) return;
    this.#subscribed.add(conversationId);
    const lastSequence = Math.max(0, entry.summary.lastSequence - REPLAY_WINDOW);
    this.session.realtime.subscribe(conversationId, { lastSequence }).catch((error: unknown) => {
      this.#subscribed.delete(conversationId);
      if (error instanceof ParleyApiError && error.code === 'NOT_FOUND') this.dispatch({ type: 'remove', conversationId });
    });
  }

  #forget(conversationId: string): void {
    if (this.#subscribed.delete(conversationId)) void this.session.realtime.unsubscribe(conversationId);
    if (conversationId !== this.#selectedId) this.dispatch({ type: 'remove', conversationId });
  }
}
