import type { ConversationEvent, QuickReplies, StructuredElement } from '@parley/protocol';

/**
 * The widget's state and its reducer: pure functions of conversation events and the consumer's actions, so the rules
 * (what is pending, delivered or read, what is unread, which receipts are owed, where each row goes) are unit-tested
 * without a browser.
 */

export interface FileRef {
  /** null until the upload finished. */
  fileId: string | null;
  name: string;
  contentType: string;
  size: number;
  caption?: string;
}

export type Body = { kind: 'text'; text: string } | { kind: 'file'; file: FileRef } | { kind: 'card'; content: StructuredElement; fallbackText: string | null };

export interface Message {
  /** `c:<clientMessageId>` for the consumer's own messages (pending or stored), `e:<event id>` for others'. */
  key: string;
  /** null for a message written before its conversation was started. */
  conversationId: string | null;
  /** null while pending. */
  sequence: number | null;
  own: boolean;
  authorId: string | null;
  authorName: string | null;
  body: Body;
  quickReplies: QuickReplies | null;
  createdAt: string;
  pending: boolean;
  failed: boolean;
  /** Why it failed, for people. */
  error: string | null;
  /** Order of writing, to keep pending messages in the order they were typed. */
  order: number;
}

export type NoticeKind = 'joined' | 'left' | 'closed' | 'reopened' | 'system';

export interface Notice {
  key: string;
  conversationId: string;
  sequence: number;
  kind: NoticeKind;
  name: string | null;
  /** What Parley itself said (queue position, off hours, an auto-close warning): shown as a notice, not a bubble. */
  text?: string;
  createdAt: string;
}

export interface ConversationInfo {
  id: string;
  state: 'open' | 'closed';
  createdAt: string;
}

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'failed';

export interface WidgetState {
  consumerId: string | null;
  /** Oldest first. */
  conversations: ConversationInfo[];
  messages: Message[];
  notices: Notice[];
  /** `conversationId:sequence` of own messages others marked delivered / read. */
  delivered: ReadonlySet<string>;
  read: ReadonlySet<string>;
  /** `conversationId:sequence` of others' messages the consumer acknowledged / read (from its own receipts). */
  ownAccepted: ReadonlySet<string>;
  ownRead: ReadonlySet<string>;
  typing: { name: string | null } | null;
  connection: ConnectionState;
  /** The browser says it has no network. */
  offline: boolean;
  open: boolean;
  /** Older conversations exist that are not loaded. */
  moreHistory: boolean;
  nextOrder: number;
}

export const initialState: WidgetState = {
  consumerId: null,
  conversations: [],
  messages: [],
  notices: [],
  delivered: new Set(),
  read: new Set(),
  ownAccepted: new Set(),
  ownRead: new Set(),
  typing: null,
  connection: 'idle',
  offline: false,
  open: false,
  moreHistory: false,
  nextOrder: 0,
};

export type Action =
  | { type: 'session'; consumerId: string }
  | { type: 'conversations'; conversations: ConversationInfo[]; moreHistory?: boolean }
  | { type: 'events'; events: ConversationEvent[] }
  | { type: 'queued'; key: string; body: Body; createdAt: string }
  | { type: 'assigned'; key: string; conversationId: string }
  | { type: 'uploaded'; key: string; fileId: string }
  | { type: 'acked'; key: string; conversationId: string; sequence: number }
  | { type: 'failed'; key: string; error: string }
  | { type: 'retrying'; key: string }
  | { type: 'receipted'; conversationId: string; status: 'accept' | 'read'; sequences: number[] }
  | { type: 'typing'; name: string | null; active: boolean }
  | { type: 'connection'; connection: ConnectionState }
  | { type: 'offline'; offline: boolean }
  | { type: 'open'; open: boolean };

export const seqKey = (conversationId: string, sequence: number) => `${conversationId}:${sequence}`;

const withAll = (set: ReadonlySet<string>, keys: string[]): ReadonlySet<string> => {
  if (keys.every((k) => set.has(k))) return set;
  const next = new Set(set);
  for (const k of keys) next.add(k);
  return next;
};

function upsertConversation(conversations: ConversationInfo[], info: ConversationInfo): ConversationInfo[] {
  const index = conversations.findIndex((c) => c.id === info.id);
  if (index >= 0) {
    const current = conversations[index];
    if (current && current.state === info.state) return conversations;
    const next = conversations.slice();
    next[index] = { ...current, ...info, createdAt: current?.createdAt ?? info.createdAt };
    return next;
  }
  return [...conversations, info].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}

function bodyOf(event: Extract<ConversationEvent, { type: 'content' | 'rich_content' }>): { body: Body; quickReplies: QuickReplies | null } {
  if (event.type === 'rich_content') return { body: { kind: 'card', content: event.content, fallbackText: event.fallbackText ?? null }, quickReplies: event.quickReplies ?? null };
  const content = event.content;
  if (content.contentType === 'text/plain') return { body: { kind: 'text', text: content.message }, quickReplies: content.quickReplies ?? null };
  const { fileId, name, contentType, size, caption } = content.file;
  return { body: { kind: 'file', file: { fileId, name, contentType, size, ...(caption ? { caption } : {}) } }, quickReplies: content.quickReplies ?? null };
}

function applyEvent(state: WidgetState, event: ConversationEvent): WidgetState {
  let next = state;
  if (!state.conversations.some((c) => c.id === event.conversationId)) {
    next = { ...next, conversations: upsertConversation(next.conversations, { id: event.conversationId, state: 'open', createdAt: event.createdAt }) };
  }
  const fromConsumer = event.originator.role === 'consumer';
  switch (event.type) {
    case 'content':
    case 'rich_content': {
      if (event.originator.role === 'system' && event.type === 'content' && event.content.contentType === 'text/plain') {
        return addNotice(next, {
          key: `e:${event.id}`,
          conversationId: event.conversationId,
          sequence: event.sequence,
          kind: 'system',
          name: null,
          text: event.content.message,
          createdAt: event.createdAt,
        });
      }
      const key = fromConsumer && event.clientMessageId ? `c:${event.clientMessageId}` : `e:${event.id}`;
      const index = next.messages.findIndex((m) => m.key === key);
      const { body, quickReplies } = bodyOf(event);
      if (index >= 0) {
        const current = next.messages[index] as Message;
        if (current.sequence === event.sequence && !current.pending) return next;
        const messages = next.messages.slice();
        messages[index] = { ...current, conversationId: event.conversationId, sequence: event.sequence, pending: false, failed: false, error: null, body, createdAt: event.createdAt };
        return { ...next, messages: sortMessages(messages, next.conversations) };
      }
      const message: Message = {
        key,
        conversationId: event.conversationId,
        sequence: event.sequence,
        own: fromConsumer,
        authorId: event.originator.id,
        authorName: event.originator.name,
        body,
        quickReplies,
        createdAt: event.createdAt,
        pending: false,
        failed: false,
        error: null,
        order: next.nextOrder,
      };
      // A message from someone else ends their typing.
      const typing = fromConsumer ? next.typing : null;
      return { ...next, typing, nextOrder: next.nextOrder + 1, messages: sortMessages([...next.messages, message], next.conversations) };
    }
    case 'accept_status': {
      const keys = event.sequences.map((s) => seqKey(event.conversationId, s));
      if (fromConsumer) {
        return event.status === 'read' ? { ...next, ownRead: withAll(next.ownRead, keys), ownAccepted: withAll(next.ownAccepted, keys) } : { ...next, ownAccepted: withAll(next.ownAccepted, keys) };
      }
      return event.status === 'read' ? { ...next, read: withAll(next.read, keys), delivered: withAll(next.delivered, keys) } : { ...next, delivered: withAll(next.delivered, keys) };
    }
    case 'participant': {
      if (event.participant.role === 'consumer') return next;
      return addNotice(next, { key: `e:${event.id}`, conversationId: event.conversationId, sequence: event.sequence, kind: event.change, name: event.participant.name, createdAt: event.createdAt });
    }
    case 'conversation_state': {
      next = { ...next, conversations: upsertConversation(next.conversations, { id: event.conversationId, state: event.state, createdAt: event.createdAt }) };
      if (event.state === 'closed') next = { ...next, typing: null };
      return addNotice(next, {
        key: `e:${event.id}`,
        conversationId: event.conversationId,
        sequence: event.sequence,
        kind: event.state === 'closed' ? 'closed' : 'reopened',
        name: null,
        createdAt: event.createdAt,
      });
    }
    default:
      return next;
  }
}

function addNotice(state: WidgetState, notice: Notice): WidgetState {
  if (state.notices.some((n) => n.key === notice.key)) return state;
  return { ...state, notices: [...state.notices, notice].sort((a, b) => a.sequence - b.sequence) };
}

/** Within a conversation by sequence, pending ones after the stored ones in writing order; unassigned ones last. */
function sortMessages(messages: Message[], conversations: ConversationInfo[]): Message[] {
  const rank = new Map(conversations.map((c, i) => [c.id, i]));
  const conversationRank = (m: Message) => (m.conversationId === null ? Number.MAX_SAFE_INTEGER : (rank.get(m.conversationId) ?? Number.MAX_SAFE_INTEGER - 1));
  return messages.slice().sort((a, b) => {
    const byConversation = conversationRank(a) - conversationRank(b);
    if (byConversation !== 0) return byConversation;
    if (a.sequence !== null && b.sequence !== null) return a.sequence - b.sequence;
    if (a.sequence !== null) return -1;
    if (b.sequence !== null) return 1;
    return a.order - b.order;
  });
}

function updateMessage(state: WidgetState, key: string, change: (m: Message) => Message): WidgetState {
  const index = state.messages.findIndex((m) => m.key === key);
  if (index < 0) return state;
  const messages = state.messages.slice();
  messages[index] = change(messages[index] as Message);
  return { ...state, messages: sortMessages(messages, state.conversations) };
}

export function reduce(state: WidgetState, action: Action): WidgetState {
  switch (action.type) {
    case 'session':
      return { ...state, consumerId: action.consumerId };
    case 'conversations': {
      let conversations = state.conversations;
      for (const info of action.conversations) conversations = upsertConversation(conversations, info);
      return { ...state, conversations, messages: sortMessages(state.messages, conversations), moreHistory: action.moreHistory ?? state.moreHistory };
    }
    case 'events':
      return action.events.reduce(applyEvent, state);
    case 'queued': {
      if (state.messages.some((m) => m.key === action.key)) return state;
      const message: Message = {
        key: action.key,
        conversationId: null,
        sequence: null,
        own: true,
        authorId: state.consumerId,
        authorName: null,
        body: action.body,
        quickReplies: null,
        createdAt: action.createdAt,
        pending: true,
        failed: false,
        error: null,
        order: state.nextOrder,
      };
      return { ...state, nextOrder: state.nextOrder + 1, messages: sortMessages([...state.messages, message], state.conversations) };
    }
    case 'assigned':
      return updateMessage(state, action.key, (m) => (m.sequence === null ? { ...m, conversationId: action.conversationId } : m));
    case 'uploaded':
      return updateMessage(state, action.key, (m) => (m.body.kind === 'file' ? { ...m, body: { kind: 'file', file: { ...m.body.file, fileId: action.fileId } } } : m));
    case 'acked':
      return updateMessage(state, action.key, (m) => ({ ...m, conversationId: action.conversationId, sequence: action.sequence, pending: false, failed: false, error: null }));
    case 'failed':
      return updateMessage(state, action.key, (m) => (m.pending ? { ...m, failed: true, error: action.error } : m));
    case 'retrying':
      return updateMessage(state, action.key, (m) => ({ ...m, failed: false, error: null }));
    case 'receipted': {
      const keys = action.sequences.map((s) => seqKey(action.conversationId, s));
      return action.status === 'read'
        ? { ...state, ownRead: withAll(state.ownRead, keys), ownAccepted: withAll(state.ownAccepted, keys) }
        : { ...state, ownAccepted: withAll(state.ownAccepted, keys) };
    }
    case 'typing':
      return { ...state, typing: action.active ? { name: action.name } : null };
    case 'connection':
      return state.connection === action.connection ? state : { ...state, connection: action.connection };
    case 'offline':
      return { ...state, offline: action.offline };
    case 'open':
      return { ...state, open: action.open };
  }
}

// ---------- selectors ----------

export type OwnStatus = 'sending' | 'failed' | 'sent' | 'delivered' | 'read';

export function ownStatus(state: WidgetState, message: Message): OwnStatus {
  if (message.failed) return 'failed';
  if (message.pending || message.sequence === null || message.conversationId === null) return 'sending';
  const key = seqKey(message.conversationId, message.sequence);
  if (state.read.has(key)) return 'read';
  if (state.delivered.has(key)) return 'delivered';
  return 'sent';
}

/** The open conversation the consumer writes into; undefined when the next message starts a new one. */
export function currentConversation(state: WidgetState): ConversationInfo | undefined {
  const last = state.conversations.at(-1);
  return last?.state === 'open' ? last : undefined;
}

/** Others' messages the consumer has not read yet. */
export function unreadMessages(state: WidgetState): Message[] {
  return state.messages.filter((m) => !m.own && m.sequence !== null && m.conversationId !== null && !state.ownRead.has(seqKey(m.conversationId, m.sequence)));
}

/** Receipts the consumer owes, per conversation: `accept` for everything received, `read` too when it is on screen. */
export function owedReceipts(state: WidgetState, visible: boolean): Array<{ conversationId: string; status: 'accept' | 'read'; sequences: number[] }> {
  const owed = new Map<string, { accept: number[]; read: number[] }>();
  for (const m of state.messages) {
    if (m.own || m.sequence === null || m.conversationId === null) continue;
    const key = seqKey(m.conversationId, m.sequence);
    const entry = owed.get(m.conversationId) ?? { accept: [], read: [] };
    if (!state.ownAccepted.has(key)) entry.accept.push(m.sequence);
    if (visible && !state.ownRead.has(key)) entry.read.push(m.sequence);
    owed.set(m.conversationId, entry);
  }
  const result: Array<{ conversationId: string; status: 'accept' | 'read'; sequences: number[] }> = [];
  for (const [conversationId, { accept, read }] of owed) {
    if (accept.length > 0) result.push({ conversationId, status: 'accept', sequences: accept });
    if (read.length > 0) result.push({ conversationId, status: 'read', sequences: read });
  }
  return result;
}

/** The name of the agent (or bot) who last joined the current conversation and has not left it. */
export function agentName(state: WidgetState): string | null {
  const current = currentConversation(state);
  if (!current) return null;
  let name: string | null = null;
  for (const n of state.notices) {
    if (n.conversationId !== current.id) continue;
    if (n.kind === 'joined') name = n.name ?? name;
    else if (n.kind === 'left' && n.name === name) name = null;
  }
  return name;
}

export type Row =
  | { kind: 'separator'; key: string; conversationId: string; createdAt: string; earlier: boolean }
  | { kind: 'greeting'; key: string }
  | { kind: 'notice'; key: string; notice: Notice }
  | { kind: 'message'; key: string; message: Message; showAuthor: boolean; showStatus: boolean };

/**
 * The rows of the message log, in order: each conversation under a separator (older, closed ones first), its messages
 * and notices by sequence, pending messages after them; the greeting opens the current conversation (or a new one).
 */
export function timeline(state: WidgetState): Row[] {
  const rows: Row[] = [];
  const current = currentConversation(state);
  const byConversation = new Map<string | null, Array<{ sequence: number; row: Row }>>();
  const push = (id: string | null, sequence: number, row: Row) => {
    const list = byConversation.get(id) ?? [];
    list.push({ sequence, row });
    byConversation.set(id, list);
  };
  let lastOwn: Message | undefined;
  for (const m of state.messages) if (m.own && !m.pending && !m.failed) lastOwn = m;
  for (const message of state.messages) {
    const showStatus = message.pending || message.failed || message === lastOwn;
    push(message.conversationId, message.sequence ?? Number.MAX_SAFE_INTEGER, { kind: 'message', key: message.key, message, showAuthor: false, showStatus });
  }
  for (const notice of state.notices) push(notice.conversationId, notice.sequence, { kind: 'notice', key: notice.key, notice });

  const several = state.conversations.length > 1;
  for (const conversation of state.conversations) {
    const items = (byConversation.get(conversation.id) ?? []).sort((a, b) => a.sequence - b.sequence);
    if (several) rows.push({ kind: 'separator', key: `sep:${conversation.id}`, conversationId: conversation.id, createdAt: conversation.createdAt, earlier: conversation !== current });
    if (conversation === current) rows.push({ kind: 'greeting', key: 'greeting' });
    for (const item of items) rows.push(item.row);
  }
  const unassigned = byConversation.get(null) ?? [];
  if (!current) rows.push({ kind: 'greeting', key: 'greeting' });
  for (const item of unassigned) rows.push(item.row);

  // The author's name heads each run of messages from the same person (not the consumer's own).
  let previousAuthor: string | null | undefined;
  for (const row of rows) {
    if (row.kind !== 'message') {
      previousAuthor = undefined;
      continue;
    }
    const author = row.message.own ? '\u0000own' : row.message.authorId;
    row.showAuthor = !row.message.own && author !== previousAuthor;
    previousAuthor = author;
  }
  return rows;
}

/** Quick replies offered by the last row of the current conversation, if it is someone else's message. */
export function activeQuickReplies(state: WidgetState): { key: string; quickReplies: QuickReplies } | null {
  const current = currentConversation(state);
  if (!current) return null;
  const rows = timeline(state).filter((r) => r.kind === 'message' && r.message.conversationId === current.id);
  const last = rows.at(-1);
  if (last?.kind !== 'message' || last.message.own || !last.message.quickReplies) return null;
  return { key: last.key, quickReplies: last.message.quickReplies };
}
