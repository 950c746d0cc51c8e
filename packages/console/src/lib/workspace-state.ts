import type { AgentStatus, ConversationEvent, ConversationSummary, LiveView } from '@parley/protocol';
import { awaitingSince, isConsumerMessage, lastMessage, mergeEvents, unreadCount } from './timeline.ts';

/** A message sent but not acknowledged yet, shown greyed until its event arrives. */
export interface PendingMessage {
  clientMessageId: string;
  conversationId: string;
  text: string;
  audience: 'all' | 'agents_and_managers';
  createdAt: string;
  failed?: string;
}

export interface ConversationEntry {
  summary: ConversationSummary;
  events: ConversationEvent[];
  /** The conversation's last sequence when the console first saw it: later consumer messages are new (sound). */
  baseline: number;
  /** Whether older events than the first loaded one exist. */
  hasOlder: boolean;
  /** Until when (ms) the consumer is shown typing. */
  consumerTypingUntil: number;
  pending: PendingMessage[];
}

export interface Offer {
  conversation: ConversationSummary;
  expiresAt: string;
}

export interface Toast {
  id: number;
  tone: 'info' | 'success' | 'error';
  text: string;
  conversationId?: string;
}

export interface WorkspaceState {
  meId: string;
  conversations: Record<string, ConversationEntry>;
  listsLoaded: boolean;
  agent: AgentStatus | null;
  offers: Offer[];
  toasts: Toast[];
  live: LiveView | null;
  /** The realtime connection: anything but `open` shows the reconnecting banner. */
  connection: 'connecting' | 'open' | 'reconnecting' | 'closed';
  soundOn: boolean;
}

export type WorkspaceAction =
  | { type: 'lists'; summaries: ConversationSummary[] }
  | { type: 'summary'; summary: ConversationSummary }
  | { type: 'events'; conversationId: string; events: ConversationEvent[]; hasOlder?: boolean }
  | { type: 'typing'; conversationId: string; until: number }
  | { type: 'pending'; message: PendingMessage }
  | { type: 'pendingFailed'; clientMessageId: string; conversationId: string; error: string }
  | { type: 'dropPending'; clientMessageId: string; conversationId: string }
  | { type: 'remove'; conversationId: string }
  | { type: 'agent'; agent: AgentStatus | null }
  | { type: 'offer'; offer: Offer }
  | { type: 'offerGone'; conversationId: string }
  | { type: 'toast'; toast: Toast }
  | { type: 'dismissToast'; id: number }
  | { type: 'live'; live: LiveView | null }
  | { type: 'connection'; connection: WorkspaceState['connection'] }
  | { type: 'sound'; on: boolean };

export function initialWorkspace(meId: string): WorkspaceState {
  return { meId, conversations: {}, listsLoaded: false, agent: null, offers: [], toasts: [], live: null, connection: 'connecting', soundOn: true };
}

function upsert(state: WorkspaceState, summary: ConversationSummary): Record<string, ConversationEntry> {
  const current = state.conversations[summary.id];
  // Summaries can arrive out of order (a list read before a frame); keep the newer one.
  if (current && current.summary.updatedAt > summary.updatedAt && current.summary.lastSequence >= summary.lastSequence) return state.conversations;
  const entry: ConversationEntry = current ? { ...current, summary } : { summary, events: [], baseline: summary.lastSequence, hasOlder: summary.lastSequence > 0, consumerTypingUntil: 0, pending: [] };
  return { ...state.conversations, [summary.id]: entry };
}

/** The workspace's state transitions: pure, so they are unit-tested; the store applies them. */
export function workspaceReducer(state: WorkspaceState, action: WorkspaceAction): WorkspaceState {
  switch (action.type) {
    case 'lists': {
      let next = state;
      for (const summary of action.summaries) next = { ...next, conversations: upsert(next, summary) };
      return { ...next, listsLoaded: true };
    }
    case 'summary':
      return { ...state, conversations: upsert(state, action.summary), offers: state.offers.filter((o) => o.conversation.id !== action.summary.id || action.summary.assignedAgentId === null) };
    case 'events': {
      const entry = state.conversations[action.conversationId];
      if (!entry) return state;
      const events = mergeEvents(entry.events, action.events);
      const ids = new Set(events.flatMap((e) => ((e.type === 'content' || e.type === 'rich_content') && e.clientMessageId ? [e.clientMessageId] : [])));
      const pending = entry.pending.filter((p) => !ids.has(p.clientMessageId));
      const lastSeq = events.at(-1)?.sequence ?? 0;
      const summary = lastSeq > entry.summary.lastSequence ? { ...entry.summary, lastSequence: lastSeq } : entry.summary;
      const gotConsumerMessage = action.events.some(isConsumerMessage);
      const hasOlder = action.hasOlder ?? ((events[0]?.sequence ?? 1) > 1 && entry.hasOlder);
      if (events === entry.events && pending.length === entry.pending.length && hasOlder === entry.hasOlder) return state;
      return {
        ...state,
        conversations: {
          ...state.conversations,
          [action.conversationId]: { ...entry, events, pending, summary, hasOlder, consumerTypingUntil: gotConsumerMessage ? 0 : entry.consumerTypingUntil },
        },
      };
    }
    case 'typing': {
      const entry = state.conversations[action.conversationId];
      if (!entry) return state;
      return { ...state, conversations: { ...state.conversations, [action.conversationId]: { ...entry, consumerTypingUntil: action.until } } };
    }
    case 'pending': {
      const entry = state.conversations[action.message.conversationId];
      if (!entry) return state;
      return { ...state, conversations: { ...state.conversations, [entry.summary.id]: { ...entry, pending: [...entry.pending, action.message] } } };
    }
    case 'pendingFailed':
    case 'dropPending': {
      const entry = state.conversations[action.conversationId];
      if (!entry) return state;
      const pending =
        action.type === 'dropPending'
          ? entry.pending.filter((p) => p.clientMessageId !== action.clientMessageId)
          : entry.pending.map((p) => (p.clientMessageId === action.clientMessageId ? { ...p, failed: action.error } : p));
      return { ...state, conversations: { ...state.conversations, [entry.summary.id]: { ...entry, pending } } };
    }
    case 'remove': {
      if (!state.conversations[action.conversationId]) return state;
      const { [action.conversationId]: _gone, ...rest } = state.conversations;
      return { ...state, conversations: rest };
    }
    case 'agent':
      return { ...state, agent: action.agent };
    case 'offer':
      return { ...state, offers: [...state.offers.filter((o) => o.conversation.id !== action.offer.conversation.id), action.offer] };
    case 'offerGone':
      return { ...state, offers: state.offers.filter((o) => o.conversation.id !== action.conversationId) };
    case 'toast':
      return { ...state, toasts: [...state.toasts.slice(-3), action.toast] };
    case 'dismissToast':
      return { ...state, toasts: state.toasts.filter((t) => t.id !== action.id) };
    case 'live':
      return { ...state, live: action.live };
    case 'connection':
      return { ...state, connection: action.connection };
    case 'sound':
      return { ...state, soundOn: action.on };
  }
}

/** One row of the inbox. */
export interface InboxItem {
  id: string;
  summary: ConversationSummary;
  unread: number;
  preview: string;
  previewIsNote: boolean;
  lastActivity: string;
  waitingSince: string | null;
  breached: boolean;
}

function toItem(entry: ConversationEntry): InboxItem {
  const last = lastMessage(entry.events);
  const preview = last ? (last.type === 'content' ? (last.content.contentType === 'text/plain' ? last.content.message : `📎 ${last.content.file.name}`) : (last.fallbackText ?? 'Rich content')) : '';
  return {
    id: entry.summary.id,
    summary: entry.summary,
    unread: unreadCount(entry.events),
    preview,
    previewIsNote: last?.audience === 'agents_and_managers',
    lastActivity: last?.createdAt ?? entry.summary.updatedAt,
    // The timeline is the freshest source once loaded; routing's value can lag the last answer by one summary.
    waitingSince: entry.events.length > 0 ? awaitingSince(entry.events) : (entry.summary.routing?.awaitingResponseSince ?? null),
    breached: entry.summary.routing?.breached ?? false,
  };
}

/** Longest-waiting first (they need an answer), then most recent activity. */
function byUrgency(a: InboxItem, b: InboxItem): number {
  if (a.waitingSince && b.waitingSince) return a.waitingSince.localeCompare(b.waitingSince);
  if (a.waitingSince) return -1;
  if (b.waitingSince) return 1;
  return b.lastActivity.localeCompare(a.lastActivity);
}

/** The agent's open conversations and the unassigned queue, as the inbox shows them. */
export function inboxOf(state: WorkspaceState): { mine: InboxItem[]; queue: InboxItem[] } {
  const mine: InboxItem[] = [];
  const queue: InboxItem[] = [];
  for (const entry of Object.values(state.conversations)) {
    if (entry.summary.state !== 'open') continue;
    if (entry.summary.assignedAgentId === state.meId) mine.push(toItem(entry));
    else if (entry.summary.assignedAgentId === null) queue.push(toItem(entry));
  }
  return { mine: mine.sort(byUrgency), queue: queue.sort((a, b) => a.summary.createdAt.localeCompare(b.summary.createdAt)) };
}

/** Unread consumer messages over the agent's own open conversations (the title counter). */
export function totalUnread(state: WorkspaceState): number {
  return inboxOf(state).mine.reduce((sum, item) => sum + item.unread, 0);
}
