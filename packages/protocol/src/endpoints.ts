import { z } from 'zod';
import { PROTOCOL_VERSION, type Role } from './common.ts';
import {
  AccountSchema,
  ApiKeySchema,
  type ApiKeyScope,
  ChatStateRequestSchema,
  ConsumerSessionRequestSchema,
  ConsumerSessionSchema,
  ConversationIdParamsSchema,
  ConversationListSchema,
  CreateApiKeyRequestSchema,
  CreatedApiKeySchema,
  CreateLineOfBusinessRequestSchema,
  CreateUserRequestSchema,
  EventPageSchema,
  FileRecordSchema,
  IdParamsSchema,
  LineOfBusinessSchema,
  ListConversationsQuerySchema,
  ListEventsQuerySchema,
  LoginRequestSchema,
  LogoutRequestSchema,
  MeSchema,
  ReceiptRequestSchema,
  RefreshRequestSchema,
  SendAckSchema,
  SendEventRequestSchema,
  StartConversationRequestSchema,
  StartConversationResponseSchema,
  TokenPairSchema,
  UpdateAccountRequestSchema,
  UpdateUserRequestSchema,
  UserSchema,
} from './rest.ts';
import { ConversationSummarySchema } from './events.ts';
import { WidgetConfigQuerySchema, WidgetConfigSchema, WidgetSettingsSchema } from './widget.ts';
import {
  CannedResponseListSchema,
  CannedResponseSchema,
  ConsumerDetailsSchema,
  ConsumerIdParamsSchema,
  CreateCannedResponseRequestSchema,
  UpdateCannedResponseRequestSchema,
} from './canned-responses.ts';
import {
  AgentIdParamsSchema,
  AgentStatusListSchema,
  AgentStatusSchema,
  AssignRequestSchema,
  ConversationRoutingSchema,
  CreateSkillRequestSchema,
  LiveViewSchema,
  QueuePositionSchema,
  RoutingSettingsSchema,
  SetAgentStateRequestSchema,
  SkillListSchema,
  SkillSchema,
  TransferRequestSchema,
  UpdateAgentRoutingRequestSchema,
  UpdateRoutingSettingsRequestSchema,
  UpdateSkillRequestSchema,
} from './routing.ts';

/**
 * The REST catalogue: every endpoint with its method, path, who may call it and its schemas. The server registers
 * handlers against these entries (so a route cannot drift from its contract), the SDK derives its request and
 * response types from them, and the API documentation is generated from them.
 */
export type Access = { public: true } | { users?: readonly Role[]; consumer?: boolean; apiKeyScopes?: readonly ApiKeyScope[] };

export interface Endpoint {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  summary: string;
  access: Access;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** `multipart` bodies are files; their fields are described in the summary. */
  bodyKind?: 'json' | 'multipart';
  response: z.ZodType | null;
  status: 200 | 201 | 204;
}

const ALL_ROLES = ['admin', 'manager', 'agent'] as const;
const SUPERVISORS = ['admin', 'manager'] as const;
const ADMIN = ['admin'] as const;
const p = `/v${PROTOCOL_VERSION}`;

const e = <E extends Endpoint>(endpoint: E) => endpoint;

export const endpoints = {
  login: e({
    method: 'POST',
    path: `${p}/auth/login`,
    summary: 'Log a user in with email and password; returns an access and a refresh token.',
    access: { public: true },
    body: LoginRequestSchema,
    response: TokenPairSchema,
    status: 200,
  }),
  refresh: e({
    method: 'POST',
    path: `${p}/auth/refresh`,
    summary: 'Exchange a refresh token (once) for a new token pair.',
    access: { public: true },
    body: RefreshRequestSchema,
    response: TokenPairSchema,
    status: 200,
  }),
  logout: e({ method: 'POST', path: `${p}/auth/logout`, summary: 'Revoke a refresh token.', access: { public: true }, body: LogoutRequestSchema, response: null, status: 204 }),
  me: e({ method: 'GET', path: `${p}/me`, summary: 'Who the credentials belong to.', access: { users: ALL_ROLES, consumer: true, apiKeyScopes: [] }, response: MeSchema, status: 200 }),

  getAccount: e({ method: 'GET', path: `${p}/account`, summary: "The caller's account.", access: { users: ALL_ROLES, apiKeyScopes: ['account:read'] }, response: AccountSchema, status: 200 }),
  updateAccount: e({
    method: 'PATCH',
    path: `${p}/account`,
    summary: 'Rename the account or register the key/JWKS for authenticated consumers.',
    access: { users: ADMIN, apiKeyScopes: ['account:write'] },
    body: UpdateAccountRequestSchema,
    response: AccountSchema,
    status: 200,
  }),
  listLinesOfBusiness: e({
    method: 'GET',
    path: `${p}/lines-of-business`,
    summary: "The account's lines of business.",
    access: { users: ALL_ROLES, apiKeyScopes: ['account:read'] },
    response: z.object({ items: z.array(LineOfBusinessSchema) }),
    status: 200,
  }),
  createLineOfBusiness: e({
    method: 'POST',
    path: `${p}/lines-of-business`,
    summary: 'Add a line of business.',
    access: { users: ADMIN, apiKeyScopes: ['account:write'] },
    body: CreateLineOfBusinessRequestSchema,
    response: LineOfBusinessSchema,
    status: 201,
  }),

  listUsers: e({
    method: 'GET',
    path: `${p}/users`,
    summary: "The account's users.",
    access: { users: SUPERVISORS, apiKeyScopes: ['users:read'] },
    response: z.object({ items: z.array(UserSchema) }),
    status: 200,
  }),
  createUser: e({
    method: 'POST',
    path: `${p}/users`,
    summary: 'Create a user with a role.',
    access: { users: ADMIN, apiKeyScopes: ['users:write'] },
    body: CreateUserRequestSchema,
    response: UserSchema,
    status: 201,
  }),
  updateUser: e({
    method: 'PATCH',
    path: `${p}/users/:id`,
    summary: "Change a user's name, role, password or disable them.",
    access: { users: ADMIN, apiKeyScopes: ['users:write'] },
    params: IdParamsSchema,
    body: UpdateUserRequestSchema,
    response: UserSchema,
    status: 200,
  }),

  listApiKeys: e({
    method: 'GET',
    path: `${p}/api-keys`,
    summary: "The account's API keys (never their secrets).",
    access: { users: ADMIN },
    response: z.object({ items: z.array(ApiKeySchema) }),
    status: 200,
  }),
  createApiKey: e({
    method: 'POST',
    path: `${p}/api-keys`,
    summary: 'Create an API key with scopes; the secret is returned once.',
    access: { users: ADMIN },
    body: CreateApiKeyRequestSchema,
    response: CreatedApiKeySchema,
    status: 201,
  }),
  revokeApiKey: e({ method: 'DELETE', path: `${p}/api-keys/:id`, summary: 'Revoke an API key.', access: { users: ADMIN }, params: IdParamsSchema, response: null, status: 204 }),

  consumerSession: e({
    method: 'POST',
    path: `${p}/consumer/sessions`,
    summary: "Start a consumer session with the account's public widget key: a device identity, or an authenticated one from a brand-signed JWT.",
    access: { public: true },
    body: ConsumerSessionRequestSchema,
    response: ConsumerSessionSchema,
    status: 200,
  }),

  startConversation: e({
    method: 'POST',
    path: `${p}/conversations`,
    summary: 'Consumers: continue the open conversation, or start one if there is none.',
    access: { consumer: true },
    body: StartConversationRequestSchema,
    response: StartConversationResponseSchema,
    status: 200,
  }),
  listConversations: e({
    method: 'GET',
    path: `${p}/conversations`,
    summary: 'Consumers: their conversations. Agents: assigned to them, or unassigned. Managers: all.',
    access: { users: ALL_ROLES, consumer: true, apiKeyScopes: ['conversations:read'] },
    query: ListConversationsQuerySchema,
    response: ConversationListSchema,
    status: 200,
  }),
  getConversation: e({
    method: 'GET',
    path: `${p}/conversations/:conversationId`,
    summary: 'One conversation.',
    access: { users: ALL_ROLES, consumer: true, apiKeyScopes: ['conversations:read'] },
    params: ConversationIdParamsSchema,
    response: ConversationSummarySchema,
    status: 200,
  }),
  listEvents: e({
    method: 'GET',
    path: `${p}/conversations/:conversationId/events`,
    summary: "A page of the conversation's events: newest first (optionally before a sequence), or oldest first from a sequence.",
    access: { users: ALL_ROLES, consumer: true, apiKeyScopes: ['conversations:read'] },
    params: ConversationIdParamsSchema,
    query: ListEventsQuerySchema,
    response: EventPageSchema,
    status: 200,
  }),
  sendEvent: e({
    method: 'POST',
    path: `${p}/conversations/:conversationId/events`,
    summary: 'Send a content or rich-content event with an idempotency id; the answer carries its sequence.',
    access: { users: ALL_ROLES, consumer: true, apiKeyScopes: ['conversations:write'] },
    params: ConversationIdParamsSchema,
    body: SendEventRequestSchema,
    response: SendAckSchema,
    status: 201,
  }),
  sendReceipt: e({
    method: 'POST',
    path: `${p}/conversations/:conversationId/receipts`,
    summary: 'Mark events delivered (accept) or read.',
    access: { users: ALL_ROLES, consumer: true, apiKeyScopes: ['conversations:write'] },
    params: ConversationIdParamsSchema,
    body: ReceiptRequestSchema,
    response: SendAckSchema,
    status: 201,
  }),
  sendChatState: e({
    method: 'POST',
    path: `${p}/conversations/:conversationId/chat-state`,
    summary: 'Relay a typing indicator (not stored).',
    access: { users: ALL_ROLES, consumer: true },
    params: ConversationIdParamsSchema,
    body: ChatStateRequestSchema,
    response: null,
    status: 204,
  }),
  takeConversation: e({
    method: 'POST',
    path: `${p}/conversations/:conversationId/take`,
    summary: 'An agent takes an unassigned open conversation (atomic: one agent wins).',
    access: { users: ALL_ROLES },
    params: ConversationIdParamsSchema,
    response: ConversationSummarySchema,
    status: 200,
  }),
  closeConversation: e({
    method: 'POST',
    path: `${p}/conversations/:conversationId/close`,
    summary: 'Close the conversation; the next consumer message starts a new one.',
    access: { users: ALL_ROLES, consumer: true, apiKeyScopes: ['conversations:write'] },
    params: ConversationIdParamsSchema,
    response: ConversationSummarySchema,
    status: 200,
  }),
  uploadFile: e({
    method: 'POST',
    path: `${p}/conversations/:conversationId/files`,
    summary: 'Upload one file (multipart field `file`) to the conversation; send it with a `hosted/file` content event.',
    access: { users: ALL_ROLES, consumer: true, apiKeyScopes: ['conversations:write'] },
    params: ConversationIdParamsSchema,
    bodyKind: 'multipart',
    response: FileRecordSchema,
    status: 201,
  }),
  downloadFile: e({
    method: 'GET',
    path: `${p}/files/:id`,
    summary: 'Download a file (participants of its conversation).',
    access: { users: ALL_ROLES, consumer: true, apiKeyScopes: ['conversations:read'] },
    params: IdParamsSchema,
    response: null,
    status: 200,
  }),

  // ---------- widget ----------
  getWidgetSettings: e({
    method: 'GET',
    path: `${p}/account/widget-settings`,
    summary: "The account's widget settings: colour, greeting, position, language and title.",
    access: { users: SUPERVISORS, apiKeyScopes: ['account:read'] },
    response: WidgetSettingsSchema,
    status: 200,
  }),
  updateWidgetSettings: e({
    method: 'PUT',
    path: `${p}/account/widget-settings`,
    summary: "Replace the account's widget settings; a locale or title left out is removed.",
    access: { users: ADMIN, apiKeyScopes: ['account:write'] },
    body: WidgetSettingsSchema,
    response: WidgetSettingsSchema,
    status: 200,
  }),
  getWidgetConfig: e({
    method: 'GET',
    path: `${p}/widget/config`,
    summary: "The widget's public configuration for a widget key (what the embedded widget loads first); NOT_FOUND for an unknown key.",
    access: { public: true },
    query: WidgetConfigQuerySchema,
    response: WidgetConfigSchema,
    status: 200,
  }),

  // ---------- canned responses ----------
  listCannedResponses: e({
    method: 'GET',
    path: `${p}/canned-responses`,
    summary: "The account's canned responses and the caller's personal ones.",
    access: { users: ALL_ROLES },
    response: CannedResponseListSchema,
    status: 200,
  }),
  createCannedResponse: e({
    method: 'POST',
    path: `${p}/canned-responses`,
    summary: 'Create a canned response: personal (any user) or account-wide (admins).',
    access: { users: ALL_ROLES },
    body: CreateCannedResponseRequestSchema,
    response: CannedResponseSchema,
    status: 201,
  }),
  updateCannedResponse: e({
    method: 'PATCH',
    path: `${p}/canned-responses/:id`,
    summary: 'Change a canned response: its owner for a personal one, admins for an account-wide one.',
    access: { users: ALL_ROLES },
    params: IdParamsSchema,
    body: UpdateCannedResponseRequestSchema,
    response: CannedResponseSchema,
    status: 200,
  }),
  deleteCannedResponse: e({
    method: 'DELETE',
    path: `${p}/canned-responses/:id`,
    summary: 'Delete a canned response: its owner for a personal one, admins for an account-wide one.',
    access: { users: ALL_ROLES },
    params: IdParamsSchema,
    response: null,
    status: 204,
  }),

  // ---------- consumers ----------
  getConsumer: e({
    method: 'GET',
    path: `${p}/consumers/:consumerId`,
    summary: 'A consumer and their past conversations: managers and admins, and agents holding an open conversation with the consumer.',
    access: { users: ALL_ROLES },
    params: ConsumerIdParamsSchema,
    response: ConsumerDetailsSchema,
    status: 200,
  }),

  // ---------- routing ----------
  listSkills: e({ method: 'GET', path: `${p}/skills`, summary: "The account's skills.", access: { users: ALL_ROLES, apiKeyScopes: ['account:read'] }, response: SkillListSchema, status: 200 }),
  createSkill: e({
    method: 'POST',
    path: `${p}/skills`,
    summary: 'Create a skill (a queue).',
    access: { users: ADMIN, apiKeyScopes: ['account:write'] },
    body: CreateSkillRequestSchema,
    response: SkillSchema,
    status: 201,
  }),
  updateSkill: e({
    method: 'PATCH',
    path: `${p}/skills/:id`,
    summary: "Change a skill's name, routing mode, response target, business hours or messages.",
    access: { users: ADMIN, apiKeyScopes: ['account:write'] },
    params: IdParamsSchema,
    body: UpdateSkillRequestSchema,
    response: SkillSchema,
    status: 200,
  }),
  getRoutingSettings: e({
    method: 'GET',
    path: `${p}/routing/settings`,
    summary: "The account's routing settings: default skill and capacity, grace and fallback times, auto-close and reopen rules.",
    access: { users: SUPERVISORS, apiKeyScopes: ['account:read'] },
    response: RoutingSettingsSchema,
    status: 200,
  }),
  updateRoutingSettings: e({
    method: 'PATCH',
    path: `${p}/routing/settings`,
    summary: "Change the account's routing settings.",
    access: { users: ADMIN, apiKeyScopes: ['account:write'] },
    body: UpdateRoutingSettingsRequestSchema,
    response: RoutingSettingsSchema,
    status: 200,
  }),
  getLiveView: e({
    method: 'GET',
    path: `${p}/routing/live`,
    summary: 'Live operations: per skill the queue, longest wait, agents online and their load; every agent with state and load. Also pushed over the WebSocket as `live` frames.',
    access: { users: SUPERVISORS, apiKeyScopes: ['account:read'] },
    response: LiveViewSchema,
    status: 200,
  }),
  getMyState: e({ method: 'GET', path: `${p}/agents/me/state`, summary: "The caller's routing state, capacity and load.", access: { users: ALL_ROLES }, response: AgentStatusSchema, status: 200 }),
  setMyState: e({
    method: 'POST',
    path: `${p}/agents/me/state`,
    summary: 'Go online, away, back soon or offline (with a reason). Going offline returns your conversations to the queue.',
    access: { users: ALL_ROLES },
    body: SetAgentStateRequestSchema,
    response: AgentStatusSchema,
    status: 200,
  }),
  listAgents: e({
    method: 'GET',
    path: `${p}/agents`,
    summary: 'Every agent with routing state, skills, capacity and load (agents use it to pick a transfer target).',
    access: { users: ALL_ROLES, apiKeyScopes: ['users:read'] },
    response: AgentStatusListSchema,
    status: 200,
  }),
  setAgentState: e({
    method: 'POST',
    path: `${p}/agents/:userId/state`,
    summary: "Managers: set an agent's state (e.g. log out an agent who left).",
    access: { users: SUPERVISORS },
    params: AgentIdParamsSchema,
    body: SetAgentStateRequestSchema,
    response: AgentStatusSchema,
    status: 200,
  }),
  updateAgentRouting: e({
    method: 'PATCH',
    path: `${p}/agents/:userId/routing`,
    summary: "Set an agent's skills and maximum concurrent conversations.",
    access: { users: ADMIN, apiKeyScopes: ['users:write'] },
    params: AgentIdParamsSchema,
    body: UpdateAgentRoutingRequestSchema,
    response: AgentStatusSchema,
    status: 200,
  }),
  transferConversation: e({
    method: 'POST',
    path: `${p}/conversations/:conversationId/transfer`,
    summary: 'Transfer to a skill or an agent, with a note for the next agent. The assigned agent, managers and admins.',
    access: { users: ALL_ROLES, apiKeyScopes: ['conversations:write'] },
    params: ConversationIdParamsSchema,
    body: TransferRequestSchema,
    response: ConversationSummarySchema,
    status: 200,
  }),
  assignConversation: e({
    method: 'POST',
    path: `${p}/conversations/:conversationId/assign`,
    summary: 'Managers: give the conversation to an agent who is online with free capacity.',
    access: { users: SUPERVISORS },
    params: ConversationIdParamsSchema,
    body: AssignRequestSchema,
    response: ConversationSummarySchema,
    status: 200,
  }),
  acceptOffer: e({
    method: 'POST',
    path: `${p}/conversations/:conversationId/accept`,
    summary: 'Accept a conversation ringing for you.',
    access: { users: ALL_ROLES },
    params: ConversationIdParamsSchema,
    response: ConversationSummarySchema,
    status: 200,
  }),
  declineOffer: e({
    method: 'POST',
    path: `${p}/conversations/:conversationId/decline`,
    summary: 'Decline a conversation ringing for you: it rings for the next agent.',
    access: { users: ALL_ROLES },
    params: ConversationIdParamsSchema,
    response: ConversationRoutingSchema,
    status: 200,
  }),
  getQueuePosition: e({
    method: 'GET',
    path: `${p}/conversations/:conversationId/queue`,
    summary: 'Position in the queue and estimated wait.',
    access: { users: ALL_ROLES, consumer: true, apiKeyScopes: ['conversations:read'] },
    params: ConversationIdParamsSchema,
    response: QueuePositionSchema,
    status: 200,
  }),
} as const satisfies Record<string, Endpoint>;

export type Endpoints = typeof endpoints;
export type EndpointName = keyof Endpoints;
type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;
type Input<S> = S extends z.ZodType ? z.input<S> : undefined;
export type EndpointResponse<N extends EndpointName> = Infer<Endpoints[N]['response']>;
export type EndpointBody<N extends EndpointName> = Endpoints[N] extends { body: infer B } ? Input<B> : undefined;
export type EndpointQuery<N extends EndpointName> = Endpoints[N] extends { query: infer Q } ? Input<Q> : undefined;
export type EndpointParams<N extends EndpointName> = Endpoints[N] extends { params: infer P } ? Input<P> : undefined;
