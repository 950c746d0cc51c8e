import { type Endpoint, type EndpointBody, type EndpointName, type EndpointParams, type EndpointQuery, type EndpointResponse, type Endpoints, endpoints } from '@parley/protocol';
import { ParleyConnectionError, errorFromResponse } from './errors.ts';
import type { TokenProvider } from './token-source.ts';
import { type BaseUrl, resolveBaseUrl } from './websocket.ts';
import { newClientMessageId } from './ids.ts';

/** `{ key: T }`, optional when T has no required field, absent when T is undefined. */
type Part<K extends string, T> = [T] extends [undefined] ? { [P in K]?: undefined } : object extends T ? { [P in K]?: T } : { [P in K]: T };

type BodyPart<N extends EndpointName> = Endpoints[N] extends { bodyKind: 'multipart' } ? { body: FormData } : Part<'body', EndpointBody<N>>;

/** Per-request options accepted by every call. */
export interface RequestOptions {
  /** Aborts the request. */
  signal?: AbortSignal;
  /** Extra headers (e.g. `X-Request-Id`). */
  headers?: Record<string, string>;
}

/** What `call(name, input)` takes for endpoint N: its path params, query and body, typed from the catalogue. */
export type CallInput<N extends EndpointName> = Part<'params', EndpointParams<N>> & Part<'query', EndpointQuery<N>> & BodyPart<N> & RequestOptions;

/** The input is optional when the endpoint needs nothing. */
export type CallArgs<N extends EndpointName> = object extends CallInput<N> ? [input?: CallInput<N>] : [input: CallInput<N>];

/** Options of {@link createRestClient}. */
export interface RestClientOptions {
  /** Where the server is, e.g. `https://care.example.com` (the `/v1/...` paths are appended); a function is called per request. */
  baseUrl: BaseUrl;
  /** Supplies the bearer token; not consulted for public endpoints (login, refresh, consumer sessions). */
  getAccessToken?: TokenProvider;
  /** A fetch implementation; defaults to the global one (browsers, Node 20). */
  fetch?: typeof fetch;
  /** Validate every JSON response with the catalogue's schema (throws a ZodError on mismatch). Default false. */
  validateResponses?: boolean;
}

/** The body of a `sendEvent` call; the idempotency id is generated when not given. */
export type SendEventInput = Omit<EndpointBody<'sendEvent'>, 'clientMessageId'> & { clientMessageId?: string };

/** A file to upload: a Blob/File (browsers, Node 20) or raw bytes (e.g. a Node Buffer). */
export type UploadData = Blob | Uint8Array | ArrayBuffer;

/** Options of `uploadFile`. */
export interface UploadOptions extends RequestOptions {
  /** File name sent with the part; defaults to the File's name, else `file`. */
  fileName?: string;
  /** MIME type for raw bytes (a Blob keeps its own type). */
  contentType?: string;
}

/** A typed client for Parley's REST API, driven by the protocol's endpoint catalogue. */
export interface RestClient {
  /** Calls any catalogue endpoint; resolves with its typed response (undefined for 204s), throws ParleyApiError. */
  call<N extends EndpointName>(name: N, ...args: CallArgs<N>): Promise<EndpointResponse<N>>;
  /** Like `call` but resolves with the raw Response of a 2xx answer (for downloads); errors still throw. */
  fetchRaw<N extends EndpointName>(name: N, ...args: CallArgs<N>): Promise<Response>;
  /** Logs a user in with email and password. */
  login(body: EndpointBody<'login'>, options?: RequestOptions): Promise<EndpointResponse<'login'>>;
  /** Exchanges a refresh token (once) for a new token pair. */
  refresh(refreshToken: string, options?: RequestOptions): Promise<EndpointResponse<'refresh'>>;
  /** Revokes a refresh token. */
  logout(refreshToken: string, options?: RequestOptions): Promise<void>;
  /** Who the credentials belong to. */
  me(options?: RequestOptions): Promise<EndpointResponse<'me'>>;
  /** Starts a consumer session with the account's widget key (and a stored device token or a brand JWT). */
  consumerSession(body: EndpointBody<'consumerSession'>, options?: RequestOptions): Promise<EndpointResponse<'consumerSession'>>;
  /** Consumers: continues the open conversation or starts one. */
  startConversation(body?: EndpointBody<'startConversation'>, options?: RequestOptions): Promise<EndpointResponse<'startConversation'>>;
  /** Lists conversations visible to the caller. */
  listConversations(query?: EndpointQuery<'listConversations'>, options?: RequestOptions): Promise<EndpointResponse<'listConversations'>>;
  /** One conversation. */
  getConversation(conversationId: string, options?: RequestOptions): Promise<EndpointResponse<'getConversation'>>;
  /** A page of a conversation's events. */
  listEvents(conversationId: string, query?: EndpointQuery<'listEvents'>, options?: RequestOptions): Promise<EndpointResponse<'listEvents'>>;
  /** Sends a content or rich-content event (idempotent on `clientMessageId`, generated when omitted). */
  sendEvent(conversationId: string, body: SendEventInput, options?: RequestOptions): Promise<EndpointResponse<'sendEvent'>>;
  /** Marks events delivered (`accept`) or `read`. */
  sendReceipt(conversationId: string, body: EndpointBody<'sendReceipt'>, options?: RequestOptions): Promise<EndpointResponse<'sendReceipt'>>;
  /** An agent takes an unassigned conversation. */
  takeConversation(conversationId: string, options?: RequestOptions): Promise<EndpointResponse<'takeConversation'>>;
  /** Closes the conversation. */
  closeConversation(conversationId: string, options?: RequestOptions): Promise<EndpointResponse<'closeConversation'>>;
  /** Uploads one file (multipart field `file`); send it afterwards with a `hosted/file` content event. */
  uploadFile(conversationId: string, file: UploadData, options?: UploadOptions): Promise<EndpointResponse<'uploadFile'>>;
  /** Downloads a file as a Blob. */
  downloadFile(fileId: string, options?: RequestOptions): Promise<Blob>;
  /** Agents: their routing state, capacity and load. */
  getMyState(options?: RequestOptions): Promise<EndpointResponse<'getMyState'>>;
  /** Agents: go online, away, back soon or offline. */
  setMyState(body: EndpointBody<'setMyState'>, options?: RequestOptions): Promise<EndpointResponse<'setMyState'>>;
  /** Agents: accept a conversation ringing for them. */
  acceptOffer(conversationId: string, options?: RequestOptions): Promise<EndpointResponse<'acceptOffer'>>;
  /** Agents: let a ringing conversation go to the next agent. */
  declineOffer(conversationId: string, options?: RequestOptions): Promise<EndpointResponse<'declineOffer'>>;
  /** Transfers to a skill and/or an agent, with a note for the next agent. */
  transferConversation(conversationId: string, body: EndpointBody<'transferConversation'>, options?: RequestOptions): Promise<EndpointResponse<'transferConversation'>>;
  /** The consumer and their conversations (agents and bots: while they hold one of them). */
  getConsumer(consumerId: string, options?: RequestOptions): Promise<EndpointResponse<'getConsumer'>>;
  /** Sets (null: removes) fields on the consumer's profile. */
  updateConsumerProfile(consumerId: string, fields: Record<string, string | null>, options?: RequestOptions): Promise<EndpointResponse<'updateConsumerProfile'>>;
}

/** The untyped shape every CallInput has, used inside the implementation. */
interface RawInput extends RequestOptions {
  params?: unknown;
  query?: unknown;
  body?: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `/v1/conversations/:conversationId` + `{ conversationId }` -> `/v1/conversations/<encoded id>`. */
export function fillPath(path: string, params: unknown): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_match, key: string) => {
    const value = isRecord(params) ? params[key] : undefined;
    if (value === undefined || value === null || value === '') throw new TypeError(`Missing path parameter "${key}" for ${path}`);
    return encodeURIComponent(String(value));
  });
}

/** Encodes a query object; undefined values are left out, arrays repeat the key. */
export function encodeQuery(query: unknown): string {
  if (!isRecord(query)) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null) search.append(key, String(item));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

function toBlob(data: UploadData, contentType: string | undefined): Blob {
  if (data instanceof Blob) return data;
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data);
  return new Blob([bytes], contentType ? { type: contentType } : {});
}

/** Creates the REST client. Every call is typed from the protocol's endpoint catalogue. */
export function createRestClient(options: RestClientOptions): RestClient {
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function send(name: EndpointName, input: RawInput, token: string | undefined): Promise<Response> {
    const endpoint: Endpoint = endpoints[name];
    const url = joinUrl(resolveBaseUrl(options.baseUrl), fillPath(endpoint.path, input.params)) + encodeQuery(input.query);
    const headers: Record<string, string> = { accept: 'application/json', ...input.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: BodyInit | undefined;
    if (endpoint.bodyKind === 'multipart') {
      if (!(input.body instanceof FormData)) throw new TypeError(`${name} needs a FormData body`);
      body = input.body;
    } else if (input.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(input.body);
    }
    try {
      return await doFetch(url, { method: endpoint.method, headers, body, signal: input.signal });
    } catch (error) {
      if (input.signal?.aborted) throw error;
      throw new ParleyConnectionError('network', `${endpoint.method} ${url} failed: ${String(error)}`, { cause: error });
    }
  }

  async function fetchChecked(name: EndpointName, input: RawInput = {}): Promise<Response> {
    const isPublic = 'public' in endpoints[name].access;
    const tokenFor = async (expired: boolean) => (isPublic || !options.getAccessToken ? undefined : await options.getAccessToken({ expired }));
    let response = await send(name, input, await tokenFor(false));
    if (response.ok) return response;
    let error = errorFromResponse(response.status, response.statusText, await response.text());
    if (error.code === 'TOKEN_EXPIRED' && !isPublic && options.getAccessToken) {
      // The token expired between the check and the call: get a fresh one and try once more.
      response = await send(name, input, await tokenFor(true));
      if (response.ok) return response;
      error = errorFromResponse(response.status, response.statusText, await response.text());
    }
    throw error;
  }

  async function callRaw(name: EndpointName, input?: RawInput): Promise<unknown> {
    const response = await fetchChecked(name, input);
    const schema = endpoints[name].response;
    if (schema === null || response.status === 204) {
      await response.body?.cancel();
      return undefined;
    }
    const text = await response.text();
    const json: unknown = text ? JSON.parse(text) : undefined;
    return options.validateResponses ? schema.parse(json) : json;
  }

  function call<N extends EndpointName>(name: N, ...args: CallArgs<N>): Promise<EndpointResponse<N>>;
  function call(name: EndpointName, input?: RawInput): Promise<unknown> {
    return callRaw(name, input);
  }

  function fetchRaw<N extends EndpointName>(name: N, ...args: CallArgs<N>): Promise<Response>;
  function fetchRaw(name: EndpointName, input?: RawInput): Promise<Response> {
    return fetchChecked(name, input);
  }

  const byId = (conversationId: string) => ({ conversationId });

  return {
    call,
    fetchRaw,
    login: (body, opts) => call('login', { body, ...opts }),
    refresh: (refreshToken, opts) => call('refresh', { body: { refreshToken }, ...opts }),
    logout: (refreshToken, opts) => call('logout', { body: { refreshToken }, ...opts }),
    me: (opts) => call('me', { ...opts }),
    consumerSession: (body, opts) => call('consumerSession', { body, ...opts }),
    startConversation: (body, opts) => call('startConversation', { body: body ?? {}, ...opts }),
    listConversations: (query, opts) => call('listConversations', { query, ...opts }),
    getConversation: (conversationId, opts) => call('getConversation', { params: byId(conversationId), ...opts }),
    listEvents: (conversationId, query, opts) => call('listEvents', { params: byId(conversationId), query, ...opts }),
    sendEvent: (conversationId, body, opts) =>
      call('sendEvent', {
        params: byId(conversationId),
        body: { ...body, clientMessageId: body.clientMessageId ?? newClientMessageId() },
        ...opts,
      }),
    sendReceipt: (conversationId, body, opts) => call('sendReceipt', { params: byId(conversationId), body, ...opts }),
    takeConversation: (conversationId, opts) => call('takeConversation', { params: byId(conversationId), ...opts }),
    closeConversation: (conversationId, opts) => call('closeConversation', { params: byId(conversationId), ...opts }),
    uploadFile: (conversationId, file, opts = {}) => {
      const { fileName, contentType, ...rest } = opts;
      const form = new FormData();
      const name = fileName ?? (typeof File !== 'undefined' && file instanceof File ? file.name : 'file');
      form.append('file', toBlob(file, contentType), name);
      return call('uploadFile', { params: byId(conversationId), body: form, ...rest });
    },
    downloadFile: async (fileId, opts) => (await fetchRaw('downloadFile', { params: { id: fileId }, ...opts })).blob(),
    getMyState: (opts) => call('getMyState', { ...opts }),
    setMyState: (body, opts) => call('setMyState', { body, ...opts }),
    acceptOffer: (conversationId, opts) => call('acceptOffer', { params: byId(conversationId), ...opts }),
    declineOffer: (conversationId, opts) => call('declineOffer', { params: byId(conversationId), ...opts }),
    transferConversation: (conversationId, body, opts) => call('transferConversation', { params: byId(conversationId), body, ...opts }),
    getConsumer: (consumerId, opts) => call('getConsumer', { params: { consumerId }, ...opts }),
    updateConsumerProfile: (consumerId, fields, opts) => call('updateConsumerProfile', { params: { consumerId }, body: { fields }, ...opts }),
  };
}
