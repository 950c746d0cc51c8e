import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  type Access,
  ApiKeyScopeSchema,
  BotWebhookEventSchema,
  ClientFrameSchema,
  type ClientFrameType,
  type Endpoint,
  type EndpointName,
  endpoints,
  ErrorBodySchema,
  errorCatalogue,
  OAUTH_TOKEN_PATH,
  OAuthErrorSchema,
  oauthErrorStatus,
  OAuthTokenRequestSchema,
  OAuthTokenResponseSchema,
  type ErrorCode,
  PROTOCOL_VERSION,
  ResponseResults,
  ServerFrameSchema,
  ValidationIssueSchema,
  WS_CLOSE,
  WebhookPayloadSchema,
  WS_PATH,
} from '../src/index.ts';
import { buildComponents, COMPONENTS_PREFIX, inlineJsonSchema, isJson, type Json, type SchemaRoot } from './json-schemas.ts';
import { code, SchemaMarkdown, table } from './schema-markdown.ts';

/**
 * The API documentation, generated from the contract so it cannot drift from it:
 *
 * - `docs/api/openapi.json`: OpenAPI 3.1 for every entry of `endpoints`;
 * - `docs/api/asyncapi.json`: AsyncAPI 3.0 for the WebSocket at `/v1/ws`;
 * - `docs/errors.md`: the error catalogue;
 * - `docs/protocol.md`: the guide to the realtime protocol, with field tables generated from the frame schemas.
 *
 * Hand-written prose lives here as template text, so every file is fully generated. Output is deterministic (no
 * timestamps, stable key order): `generate-docs.ts --check` compares it with the files on disk.
 */

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GENERATOR = 'packages/protocol/scripts/generate-docs.ts';
const DO_NOT_EDIT = `Generated from the contract in \`packages/protocol/src\` by \`${GENERATOR}\`: do not edit by hand; run \`npm run docs:generate\`.`;

const pascal = (name: string): string =>
  name
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
const camel = (name: string): string => {
  const p = pascal(name);
  return p.charAt(0).toLowerCase() + p.slice(1);
};
const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
const catalogueOrder = (codes: Iterable<ErrorCode>): ErrorCode[] => {
  const wanted = new Set(codes);
  return (Object.keys(errorCatalogue) as ErrorCode[]).filter((c) => wanted.has(c));
};

/** Example payloads are checked against their schema when the docs are generated, so they cannot go stale either. */
function example<S extends z.ZodType>(schema: S, value: z.input<S>): z.input<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`Documentation example does not match its schema: ${z.prettifyError(result.error)}`);
  return value;
}

const EXAMPLE_IDS = {
  conversation: '0b6f3f1e-6c1a-4d2e-9f4b-2a7d5c8e1f30',
  event: '5d2c8a71-3b4e-4f6a-8c9d-0e1f2a3b4c5d',
  consumer: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  account: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
};

// ---------------------------------------------------------------------------------------------------------------------
// OpenAPI
// ---------------------------------------------------------------------------------------------------------------------

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthenticated',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

/**
 * Errors particular to an endpoint, on top of the ones every endpoint of its kind can return (validation, body
 * parsing, authentication, authorisation, not found for endpoints with an id, internal and unavailable).
 */
const ENDPOINT_ERRORS: Partial<Record<EndpointName, readonly ErrorCode[]>> = {
  login: ['INVALID_CREDENTIALS'],
  refresh: ['INVALID_REFRESH_TOKEN'],
  consumerSession: ['INVALID_WIDGET_KEY', 'INVALID_CONSUMER_TOKEN', 'CONSUMER_AUTH_NOT_CONFIGURED'],
  createLineOfBusiness: ['CONFLICT'],
  createUser: ['EMAIL_TAKEN'],
  sendEvent: ['NOT_A_PARTICIPANT', 'CONVERSATION_CLOSED', 'IDEMPOTENCY_KEY_REUSED', 'UNKNOWN_FILE'],
  takeConversation: ['CONVERSATION_CLOSED', 'ALREADY_ASSIGNED'],
  closeConversation: ['NOT_A_PARTICIPANT'],
  uploadFile: ['CONVERSATION_CLOSED'],
  getWidgetConfig: ['NOT_FOUND'],
};

const isPublic = (access: Access): access is { public: true } => 'public' in access && access.public;

/** The error codes an endpoint can answer with. */
export function endpointErrorCodes(name: EndpointName): ErrorCode[] {
  const endpoint: Endpoint = endpoints[name];
  const codes: ErrorCode[] = ['VALIDATION_FAILED'];
  if (endpoint.bodyKind === 'multipart') codes.push('UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE', 'FILE_TYPE_NOT_ALLOWED');
  else if (endpoint.method !== 'GET') codes.push('MALFORMED_JSON', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE');
  if (!isPublic(endpoint.access)) codes.push('UNAUTHENTICATED', 'TOKEN_EXPIRED', 'FORBIDDEN');
  if (endpoint.params) codes.push('NOT_FOUND');
  // Public endpoints are limited per client address, API keys per key.
  if (isPublic(endpoint.access) || endpoint.access.apiKeyScopes) codes.push('RATE_LIMITED');
  codes.push(...(ENDPOINT_ERRORS[name] ?? []), 'INTERNAL', 'SERVICE_UNAVAILABLE');
  return catalogueOrder(codes);
}

function accessText(access: Access): string {
  if (isPublic(access)) return 'Public: no credentials needed.';
  const who: string[] = [];
  if (access.users?.length) who.push(`users with the role ${access.users.map(code).join(', ')}`);
  if (access.consumer) who.push('consumers');
  if (access.apiKeyScopes) who.push(access.apiKeyScopes.length ? `API keys with the scope ${access.apiKeyScopes.map(code).join(' or ')}` : 'any API key');
  return `Allowed for ${who.join('; ')}.`;
}

function securityOf(access: Access): Json[] {
  if (isPublic(access)) return [];
  const requirements: Json[] = [];
  if (access.users?.length) requirements.push({ userToken: [...access.users] });
  if (access.consumer) requirements.push({ consumerToken: [] });
  if (access.apiKeyScopes) requirements.push({ apiKey: [...access.apiKeyScopes] }, { oauth2: [...access.apiKeyScopes] });
  return requirements;
}

function accessExtension(access: Access): Json {
  if (isPublic(access)) return { public: true };
  return { public: false, roles: [...(access.users ?? [])], consumer: access.consumer === true, apiKeyScopes: access.apiKeyScopes ? [...access.apiKeyScopes] : null };
}

function objectProperties(schema: Json, what: string): { properties: Record<string, Json>; required: Set<string> } {
  if (schema.type !== 'object' || !isJson(schema.properties)) throw new Error(`${what} must be an object schema`);
  const properties: Record<string, Json> = {};
  for (const [key, value] of Object.entries(schema.properties)) if (isJson(value)) properties[key] = value;
  return { properties, required: new Set(Array.isArray(schema.required) ? schema.required.map(String) : []) };
}

function parameter(name: string, where: 'path' | 'query', schema: Json, required: boolean): Json {
  const { description, ...rest } = schema;
  return { name, in: where, ...(typeof description === 'string' ? { description } : {}), required, schema: rest };
}

export const pathParams = (apiPath: string): string[] => [...apiPath.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
export const openApiPath = (apiPath: string): string => apiPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const tagOf = (apiPath: string): string => apiPath.split('/')[2] ?? 'api';

function errorResponse(status: number, codes: readonly ErrorCode[]): Json {
  return {
    description: `${STATUS_TEXT[status] ?? `HTTP ${status}`}. The error code is one of:\n\n${codes.map((c) => `- ${code(c)}: ${errorCatalogue[c].description}`).join('\n')}`,
    ...(status === 503 || status === 429 ? { headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } } } } : {}),
    content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
    'x-parley-error-codes': [...codes],
  };
}

/** `conversations:read` → "Read conversations". */
function scopeDescription(scope: string): string {
  const [resource = scope, action = ''] = scope.split(':');
  const what = resource.replace(/-/g, ' ');
  if (action === 'read') return `Read ${what}.`;
  if (action === 'write') return `Create, change and act on ${what}.`;
  return `${scope}.`;
}

/**
 * `POST /oauth/token` is not an entry of `endpoints`: it follows RFC 6749 (form-encoded body, `{error,
 * error_description}` errors) rather than Parley's REST conventions, so it is described here on its own.
 */
function oauthTokenOperation(schemas: ReturnType<typeof buildComponents>): Json {
  const request = schemas.ref(OAuthTokenRequestSchema, 'input');
  const error = (description: string, codes: string[], headers?: Json): Json => ({
    description: `${description} \`error\` is one of: ${codes.map(code).join(', ')}.`,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema: schemas.ref(OAuthErrorSchema, 'output') } },
  });
  const codesOf = (status: number) =>
    Object.entries(oauthErrorStatus)
      .filter(([, s]) => s === status)
      .map(([c]) => c);
  return {
    operationId: 'oauthToken',
    summary: 'OAuth 2.0 client credentials (RFC 6749 §4.4): exchange an API key for a short-lived access token.',
    description: [
      "Public: the client authenticates with the API key's id as `client_id` and its secret as `client_secret`, by HTTP Basic or in the body (not both). The optional `scope` narrows the token to some of the key's scopes.",
      "The access token acts as the API key, with the granted scopes, until it expires or the key is revoked, and counts against the key's rate limit. Requests to this endpoint count against the per-address limit of public endpoints.",
      "Errors follow RFC 6749 §5.2 (`{error, error_description}`), not Parley's `ErrorBody`, so OAuth client libraries understand them. Responses are never cached (`Cache-Control: no-store`).",
    ].join('\n\n'),
    tags: ['oauth'],
    security: [],
    'x-parley-access': { public: true },
    requestBody: {
      required: true,
      content: { 'application/x-www-form-urlencoded': { schema: request }, 'application/json': { schema: request } },
    },
    responses: {
      '200': {
        description: 'The access token.',
        headers: { 'Cache-Control': { description: '`no-store`.', schema: { type: 'string' } } },
        content: { 'application/json': { schema: schemas.ref(OAuthTokenResponseSchema, 'output') } },
      },
      '400': error("The request is malformed, the grant type is not `client_credentials`, or a scope is unknown or not the key's.", codesOf(400)),
      '401': error('The client is not authenticated (unknown id, wrong secret or revoked key).', codesOf(401), {
        'WWW-Authenticate': { description: '`Basic realm="parley"`.', schema: { type: 'string' } },
      }),
      '429': error('Too many requests from this address.', codesOf(429), { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } } }),
      '500': error('An unexpected error.', codesOf(500)),
    },
  };
}

/** A request Parley makes to a receiver: signed JSON, any 2xx counts as delivered. */
function outgoingWebhook(component: string, description: string): Json {
  const header = (name: string, text: string): Json => ({ name, in: 'header', required: true, description: text, schema: { type: 'string' } });
  return {
    post: {
      summary: description.split(':')[0],
      description,
      parameters: [
        header(
          'parley-signature',
          '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, one `v1` per valid signing secret; check it with `verifyWebhookSignature` from `@parley/sdk/webhooks`.',
        ),
        header('parley-event-id', 'The event id: the same on every retry and replay.'),
        header('parley-event-type', 'The event type.'),
        header('parley-delivery-id', 'This delivery (a replay is a new delivery of the same event).'),
      ],
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: `${COMPONENTS_PREFIX}${component}` } } } },
      responses: { '2XX': { description: 'Delivered.' }, default: { description: 'Not delivered: Parley tries again later.' } },
    },
  };
}

export function generateOpenApi(): Json {
  const entries = Object.entries(endpoints) as Array<[EndpointName, Endpoint]>;
  const roots: SchemaRoot[] = [
    { schema: ErrorBodySchema, io: 'output' },
    { schema: OAuthTokenRequestSchema, io: 'input', name: 'OAuthTokenRequest' },
    { schema: OAuthTokenResponseSchema, io: 'output', name: 'OAuthTokenResponse' },
    { schema: OAuthErrorSchema, io: 'output', name: 'OAuthError' },
    // What Parley POSTs: outbound webhooks and webhook bots (the `webhooks` section below).
    { schema: WebhookPayloadSchema, io: 'output' },
    { schema: BotWebhookEventSchema, io: 'output' },
  ];
  for (const [name, endpoint] of entries) {
    if (endpoint.body && endpoint.bodyKind !== 'multipart') roots.push({ schema: endpoint.body, io: 'input', name: `${pascal(name)}Request` });
    if (endpoint.response) roots.push({ schema: endpoint.response, io: 'output', name: `${pascal(name)}Response` });
  }
  const schemas = buildComponents('draft-2020-12', roots);

  const paths: Record<string, Json> = {};
  const tags: string[] = [];
  const errorResponses = new Map<string, Json>();
  for (const [name, endpoint] of entries) {
    const tag = tagOf(endpoint.path);
    if (!tags.includes(tag)) tags.push(tag);

    const parameters: Json[] = [];
    const declared = pathParams(endpoint.path);
    if (declared.length) {
      if (!endpoint.params) throw new Error(`Endpoint ${name}: the path has parameters but no params schema`);
      const { properties } = objectProperties(inlineJsonSchema(endpoint.params, 'input', 'draft-2020-12'), `${name}.params`);
      for (const param of declared) {
        const schema = properties[param];
        if (!schema) throw new Error(`Endpoint ${name}: the params schema has no "${param}"`);
        parameters.push(parameter(param, 'path', schema, true));
      }
      const extra = Object.keys(properties).filter((p) => !declared.includes(p));
      if (extra.length) throw new Error(`Endpoint ${name}: params ${extra.join(', ')} are not in the path`);
    } else if (endpoint.params) {
      throw new Error(`Endpoint ${name}: a params schema but no parameters in the path`);
    }
    let queryDescription = '';
    if (endpoint.query) {
      const querySchema = inlineJsonSchema(endpoint.query, 'input', 'draft-2020-12');
      if (typeof querySchema.description === 'string') queryDescription = querySchema.description;
      const { properties, required } = objectProperties(querySchema, `${name}.query`);
      for (const [param, schema] of Object.entries(properties)) parameters.push(parameter(param, 'query', schema, required.has(param)));
    }

    const operation: Json = {
      operationId: name,
      summary: endpoint.summary,
      description: [accessText(endpoint.access), queryDescription].filter(Boolean).join('\n\n'),
      tags: [tag],
      security: securityOf(endpoint.access),
      'x-parley-access': accessExtension(endpoint.access),
    };
    if (parameters.length) operation.parameters = parameters;
    if (endpoint.bodyKind === 'multipart') {
      operation.requestBody = {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              properties: { file: { type: 'string', format: 'binary', contentMediaType: 'application/octet-stream', description: 'The file, one part; its Content-Type must be an allowed type.' } },
              required: ['file'],
            },
          },
        },
      };
    } else if (endpoint.body) {
      operation.requestBody = {
        required: !endpoint.body.safeParse(undefined).success,
        content: { 'application/json': { schema: schemas.ref(endpoint.body, 'input') } },
      };
    }

    const responses: Record<string, Json> = {};
    if (endpoint.status === 204) responses['204'] = { description: 'Done; no content.' };
    else if (endpoint.response)
      responses[String(endpoint.status)] = { description: endpoint.status === 201 ? 'Created.' : 'OK.', content: { 'application/json': { schema: schemas.ref(endpoint.response, 'output') } } };
    else
      responses[String(endpoint.status)] = {
        description: 'The raw content, with its own Content-Type, its Content-Length and a Content-Disposition header naming it.',
        content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
      };
    const byStatus = new Map<number, ErrorCode[]>();
    for (const c of endpointErrorCodes(name)) byStatus.set(errorCatalogue[c].status, [...(byStatus.get(errorCatalogue[c].status) ?? []), c]);
    for (const status of [...byStatus.keys()].sort((a, b) => a - b)) {
      // Error responses are shared: one component per set of codes, named after them (`UnauthenticatedOrTokenExpired`).
      const codes = byStatus.get(status) ?? [];
      const key = codes.map((c) => pascal(c.toLowerCase())).join('Or');
      errorResponses.set(key, errorResponse(status, codes));
      responses[String(status)] = { $ref: `#/components/responses/${key}` };
    }
    operation.responses = responses;

    const pathItem = paths[openApiPath(endpoint.path)] ?? {};
    pathItem[endpoint.method.toLowerCase()] = operation;
    paths[openApiPath(endpoint.path)] = pathItem;
  }
  paths[OAUTH_TOKEN_PATH] = { post: oauthTokenOperation(schemas) };
  tags.push('oauth');

  return {
    openapi: '3.1.0',
    info: {
      title: 'Parley REST API',
      version: String(PROTOCOL_VERSION),
      description: [
        'The REST API of Parley, an open-source conversational customer-care platform. The realtime WebSocket protocol is described in `asyncapi.json` and `docs/protocol.md`; every error code in `docs/errors.md`.',
        `Credentials go in \`Authorization: Bearer <credential>\`: a user's access token (\`${endpoints.login.method} ${endpoints.login.path}\`), a consumer's access token (\`${endpoints.consumerSession.method} ${endpoints.consumerSession.path}\`) an API key (\`pak_...\`) or a bot's secret (\`pbt_...\`, see docs/bots.md).`,
        `Partners may instead exchange an API key for a short-lived access token with OAuth 2.0 client credentials at \`POST ${OAUTH_TOKEN_PATH}\` (the key's id and secret as client id and secret); the token acts as the key, with the scopes granted. Each API key (and its tokens) is limited to a number of requests a minute: the key's own \`rateLimitPerMinute\`, else the server's default; beyond it \`429 RATE_LIMITED\` with \`Retry-After\`. Responses to API keys carry \`RateLimit-Limit\` and \`RateLimit-Remaining\`.`,
        'Each operation lists who may call it in `x-parley-access`: `public: true`, or the user `roles` allowed, whether `consumer` tokens are, and the `apiKeyScopes` of which an API key needs one (`[]`: any key; `null`: no API keys). Error responses list their possible codes in `x-parley-error-codes`.',
        DO_NOT_EDIT,
      ].join('\n\n'),
    },
    // OpenAPI 3.1's own dialect: JSON Schema 2020-12 plus the OAS vocabulary. The schemas are plain 2020-12 and valid
    // under it; tools (Swagger UI among them) support only this dialect.
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    tags: tags.map((name) => ({ name })),
    paths,
    webhooks: {
      conversationEvent: outgoingWebhook(
        'WebhookPayload',
        'An event of a conversation, POSTed to every active subscription of its type (see docs/webhooks.md): retried with back-off, in order per conversation; verify `parley-signature` and ignore repeated `parley-event-id`s.',
      ),
      botEvent: outgoingWebhook(
        'BotWebhookEvent',
        "An event of a conversation a webhook bot holds, POSTed to the bot's `webhookUrl` (see docs/bots.md): answer 2xx at once and act through the REST API; three failed attempts hand the conversation to people.",
      ),
    },
    components: {
      schemas: schemas.components,
      responses: Object.fromEntries([...errorResponses.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      securitySchemes: {
        userToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `A user's access token (agent, manager, admin) from \`${endpoints.login.path}\` or \`${endpoints.refresh.path}\`. Requirements list the roles allowed.`,
        },
        consumerToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: `A consumer's access token from \`${endpoints.consumerSession.path}\`.` },
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'pak_...',
          description: `An API key created with \`${endpoints.createApiKey.method} ${endpoints.createApiKey.path}\`, sent as a bearer credential. Requirements list the scopes of which the key needs one; empty means any key.`,
        },
        oauth2: {
          type: 'oauth2',
          description: `OAuth 2.0 client credentials: the API key's id and secret are the client id and secret; the access token from \`${OAUTH_TOKEN_PATH}\` carries the key's scopes (or those asked for).`,
          flows: { clientCredentials: { tokenUrl: OAUTH_TOKEN_PATH, scopes: Object.fromEntries(ApiKeyScopeSchema.options.map((s) => [s, scopeDescription(s)])) } },
        },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Realtime: schemas shared by AsyncAPI and protocol.md
// ---------------------------------------------------------------------------------------------------------------------

type ClientFrameMember = (typeof ClientFrameSchema.options)[number];
type ServerFrameMember = (typeof ServerFrameSchema.options)[number];
type ServerFrameType = ServerFrameMember['shape']['type']['value'];

interface RealtimeSchemas {
  components: Record<string, Json>;
  client: Array<{ type: ClientFrameType; schema: ClientFrameMember; frame: Json; result: Json; reply: Json }>;
  server: Array<{ type: ServerFrameType; schema: ServerFrameMember; frame: Json }>;
}

function realtimeSchemas(): RealtimeSchemas {
  const responseFrame = ServerFrameSchema.options.find((f) => f.shape.type.value === 'response');
  if (!responseFrame || !('result' in responseFrame.shape)) throw new Error('The server frames have no `response` frame with a result');
  const roots: SchemaRoot[] = [
    { schema: ClientFrameSchema, io: 'input' },
    { schema: ServerFrameSchema, io: 'output' },
  ];
  const client = ClientFrameSchema.options.map((schema) => {
    const type = schema.shape.type.value;
    const result = ResponseResults[type];
    const reply = responseFrame.extend({ result: result.optional().describe(`When \`ok\`: the result of the \`${type}\` request.`) }).describe(`The answer to a \`${type}\` request.`);
    roots.push({ schema, io: 'input', name: `Client${pascal(type)}Frame` });
    roots.push({ schema: result, io: 'output', name: `${pascal(type)}Result` });
    roots.push({ schema: reply, io: 'output', name: `${pascal(type)}ResponseFrame` });
    return { type, schema, result, reply };
  });
  const server = ServerFrameSchema.options.map((schema) => {
    roots.push({ schema, io: 'output', name: `Server${pascal(schema.shape.type.value)}Frame` });
    return { type: schema.shape.type.value, schema };
  });
  const built = buildComponents('draft-07', roots);
  return {
    components: built.components,
    client: client.map((c) => ({ type: c.type, schema: c.schema, frame: built.ref(c.schema, 'input'), result: built.ref(c.result, 'output'), reply: built.ref(c.reply, 'output') })),
    server: server.map((s) => ({ type: s.type, schema: s.schema, frame: built.ref(s.schema, 'output') })),
  };
}

/** What each close code means and what a client does about it. */
const CLOSE_GUIDE: Record<keyof typeof WS_CLOSE, { meaning: string; action: string }> = {
  NORMAL: { meaning: 'A normal close, by the client or the server.', action: 'Nothing; connect again when needed.' },
  GOING_AWAY: {
    meaning: 'The server is shutting down (or a conversation feed failed).',
    action: 'Reconnect with back-off (another instance may answer) and resume every subscription from its last sequence.',
  },
  POLICY: { meaning: 'The client broke the protocol, e.g. sent a binary frame.', action: 'A client bug: do not reconnect in a loop.' },
  SLOW_CONSUMER: {
    meaning: 'The client read too slowly: the frames waiting for it passed the server limit.',
    action: 'Reconnect and resume each subscription with `fromSeq` = last sequence seen + 1; read faster (do not block the socket reader).',
  },
  UNAUTHENTICATED: {
    meaning: 'Authentication failed, a request came before `auth`, or the auth deadline passed.',
    action: 'Get a valid credential (log in again, start a new consumer session) before reconnecting; do not retry the same one.',
  },
  TOKEN_EXPIRED: { meaning: 'The access token expired while connected.', action: 'Refresh the token, reconnect and resume.' },
  HEARTBEAT_TIMEOUT: {
    meaning: 'The connection is considered dead: used by clients that stop getting answers to `ping`.',
    action: 'Reconnect with back-off and resume. (The server drops a connection that misses a WebSocket ping without a close frame: clients see 1006. Treat 1006 the same way.)',
  },
};

function closeCodesTable(): string {
  const rows = (Object.entries(WS_CLOSE) as Array<[keyof typeof WS_CLOSE, number]>)
    .sort(([, a], [, b]) => a - b)
    .map(([name, value]) => [String(value), code(name), CLOSE_GUIDE[name].meaning, CLOSE_GUIDE[name].action]);
  return table(['Code', 'Name', 'Meaning', 'What the client does'], rows);
}

const realtimeExamples = {
  subscribe: example(ClientFrameSchema, { id: '7', type: 'subscribe', conversationId: EXAMPLE_IDS.conversation, fromSeq: 42 }),
  send: example(ClientFrameSchema, {
    id: '8',
    type: 'send',
    conversationId: EXAMPLE_IDS.conversation,
    clientMessageId: 'c7d1f3e2-msg-0001',
    event: { type: 'content', content: { contentType: 'text/plain', message: 'Hello! My order has not arrived.' } },
  }),
  ping: example(ClientFrameSchema, { id: '9', type: 'ping' }),
  sendResponse: example(ServerFrameSchema, {
    type: 'response',
    id: '8',
    ok: true,
    result: { eventId: EXAMPLE_IDS.event, conversationId: EXAMPLE_IDS.conversation, sequence: 43, duplicate: false, createdAt: '2025-01-31T10:15:00.000Z' },
  }),
  rateLimited: example(ServerFrameSchema, {
    type: 'response',
    id: '10',
    ok: false,
    error: { code: 'RATE_LIMITED', message: 'Too many frames on this connection', retryable: true, details: { retryAfterMs: 250 } },
  }),
  event: example(ServerFrameSchema, {
    type: 'event',
    event: {
      id: EXAMPLE_IDS.event,
      conversationId: EXAMPLE_IDS.conversation,
      sequence: 43,
      originator: { id: EXAMPLE_IDS.consumer, role: 'consumer', name: null },
      audience: 'all',
      createdAt: '2025-01-31T10:15:00.000Z',
      type: 'content',
      clientMessageId: 'c7d1f3e2-msg-0001',
      content: { contentType: 'text/plain', message: 'Hello! My order has not arrived.' },
    },
  }),
};
const EXAMPLE_BY_TYPE: Partial<Record<string, unknown>> = {
  'client:subscribe': realtimeExamples.subscribe,
  'client:send': realtimeExamples.send,
  'client:ping': realtimeExamples.ping,
  'server:event': realtimeExamples.event,
  'reply:send': realtimeExamples.sendResponse,
};
const exampleBlock = (value: unknown): string => `\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\``;

// ---------------------------------------------------------------------------------------------------------------------
// AsyncAPI
// ---------------------------------------------------------------------------------------------------------------------

export function generateAsyncApi(): Json {
  const rt = realtimeSchemas();
  const messages: Record<string, Json> = {};
  const channelMessages: Record<string, Json> = {};
  const operations: Record<string, Json> = {};
  const channelRef = { $ref: '#/channels/realtime' };
  const addMessage = (key: string, message: Json): Json => {
    messages[key] = message;
    channelMessages[key] = { $ref: `#/components/messages/${key}` };
    return { $ref: `#/channels/realtime/messages/${key}` };
  };
  const describe = (ref: Json): string => {
    const name = String(ref.$ref).split('/').pop() ?? '';
    const description = rt.components[name]?.description;
    return typeof description === 'string' ? description : '';
  };
  const withExample = (key: string): Json => (EXAMPLE_BY_TYPE[key] ? { examples: [{ payload: EXAMPLE_BY_TYPE[key] }] } : {});

  for (const frame of rt.client) {
    const request = addMessage(`client${pascal(frame.type)}`, {
      name: frame.type,
      title: `${frame.type} request`,
      summary: describe(frame.frame),
      correlationId: { $ref: '#/components/correlationIds/requestId' },
      payload: frame.frame,
      ...withExample(`client:${frame.type}`),
    });
    const reply = addMessage(`${camel(frame.type)}Response`, {
      name: 'response',
      title: `${frame.type} response`,
      summary: describe(frame.reply),
      correlationId: { $ref: '#/components/correlationIds/requestId' },
      payload: frame.reply,
      ...withExample(`reply:${frame.type}`),
    });
    operations[`receive${pascal(frame.type)}`] = {
      action: 'receive',
      channel: channelRef,
      summary: describe(frame.frame),
      messages: [request],
      reply: { channel: channelRef, messages: [reply] },
    };
  }
  for (const frame of rt.server) {
    const message = addMessage(`server${pascal(frame.type)}`, {
      name: frame.type,
      title: `${frame.type} frame`,
      summary: describe(frame.frame),
      ...(frame.type === 'response' ? { correlationId: { $ref: '#/components/correlationIds/requestId' } } : {}),
      payload: frame.frame,
      ...withExample(`server:${frame.type}`),
    });
    // Responses are the replies of the receive operations; the other frames are pushed.
    if (frame.type !== 'response') operations[`send${pascal(frame.type)}`] = { action: 'send', channel: channelRef, summary: describe(frame.frame), messages: [message] };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Parley realtime API',
      version: String(PROTOCOL_VERSION),
      description: [
        `The realtime WebSocket protocol of Parley, version ${PROTOCOL_VERSION}, seen from the server: it receives request frames and answers each with one \`response\` frame carrying the request's \`id\`, and it sends \`hello\`, \`event\`, \`chat_state\` and \`conversation\` frames on its own. The guide is \`docs/protocol.md\`; the REST API is in \`openapi.json\`.`,
        DO_NOT_EDIT,
      ].join('\n\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      parley: {
        host: '{host}',
        protocol: 'wss',
        description: 'A Parley server (`ws` without TLS, e.g. locally).',
        variables: { host: { default: 'localhost:8080', description: 'Host and port of the Parley server.' } },
        security: [{ $ref: '#/components/securitySchemes/bearer' }],
      },
    },
    channels: {
      realtime: {
        address: WS_PATH,
        title: 'Realtime connection',
        description: [
          'One WebSocket per client, JSON text frames only. Authenticate with an `Authorization: Bearer` header on the upgrade request, or (browsers) with an `auth` request as the first frame, within `authDeadlineMs` of `hello`.',
          `Close codes:\n\n${closeCodesTable()}`,
        ].join('\n\n'),
        messages: channelMessages,
        bindings: {
          ws: {
            method: 'GET',
            headers: {
              type: 'object',
              properties: { Authorization: { type: 'string', description: '`Bearer <access token or API key>`; optional: browsers send an `auth` frame instead.' } },
            },
            bindingVersion: '0.1.0',
          },
        },
      },
    },
    operations,
    components: {
      schemas: rt.components,
      messages,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            "A user or consumer access token (JWT), an API key (`pak_...`) or a bot's secret (`pbt_...`), in the `Authorization` header of the upgrade request or in the `token` of an `auth` frame.",
        },
      },
      correlationIds: { requestId: { description: 'A response carries the `id` of its request.', location: '$message.payload#/id' } },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// errors.md
// ---------------------------------------------------------------------------------------------------------------------

const errorBodyExample = example(ErrorBodySchema, {
  error: {
    code: 'VALIDATION_FAILED',
    message: 'Invalid body: event.content.message: Message must not be empty',
    retryable: false,
    details: { issues: [example(ValidationIssueSchema, { path: 'body.event.content.message', message: 'Message must not be empty', code: 'too_small' })] },
    requestId: 'f2a4c6e8-0b1d-4f3a-9c5e-7a9b1d3f5e7a',
  },
});

export function generateErrorsMarkdown(): string {
  const components = buildComponents('draft-2020-12', [
    { schema: ErrorBodySchema, io: 'output' },
    { schema: ValidationIssueSchema, io: 'output' },
  ]).components;
  const md = new SchemaMarkdown(components, { ErrorCode: 'one of the [codes](#codes)' });
  const codes = Object.keys(errorCatalogue) as ErrorCode[];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of codes) byStatus.set(errorCatalogue[c].status, [...(byStatus.get(errorCatalogue[c].status) ?? []), c]);

  return `# Errors

> ${DO_NOT_EDIT}

Every error Parley returns, as a REST response or as a failed realtime \`response\` frame, carries one of the stable codes below. Clients branch on \`code\`; \`message\` is for people and may change.

## The error body

A REST error has the HTTP status of its code and this body, \`{ error: { code, message, retryable, details?, requestId? } }\`:

${exampleBlock(errorBodyExample)}

${md.fields(components.ErrorObject ?? {})}

- \`retryable\`: whether the same request may succeed later as it is. Retry those with back-off; fix the others first.
- \`details\`: depends on the code. A validation error (\`VALIDATION_FAILED\`) lists each problem in \`details.issues\`, and \`RATE_LIMITED\` says when to try again in \`details.retryAfterMs\`.
- \`requestId\`: REST only; the id under which the server logged the request. Quote it when reporting a problem.
- \`SERVICE_UNAVAILABLE\` and \`RATE_LIMITED\` responses also carry a \`Retry-After\` header (seconds).
- One endpoint differs: the OAuth 2.0 token endpoint, \`POST ${OAUTH_TOKEN_PATH}\`, answers errors as RFC 6749 §5.2 prescribes, \`{ error, error_description }\` with \`error\` one of ${OAuthErrorSchema.shape.error.options.map(code).join(', ')} (401 with \`WWW-Authenticate\` for \`invalid_client\`), because OAuth client libraries read that shape and no other.

### Validation issues

\`details.issues\` is an array of \`{ path, message, code }\`, one entry per problem:

${md.fields(components.ValidationIssue ?? {})}

Over REST the path starts with the part of the request at fault: \`body.\`, \`query.\` or \`params.\`. Over the WebSocket it is relative to the frame (\`event.content.message\`), and empty for the frame as a whole.

### Over the WebSocket

A failed request is answered with \`{ "type": "response", "id": <request id>, "ok": false, "error": { code, message, retryable, details? } }\`: the same error object, without an HTTP status. See [protocol.md](protocol.md).

## Codes

${table(
  ['Code', 'HTTP status', 'Retryable', 'Description'],
  codes.map((c) => [code(c), String(errorCatalogue[c].status), errorCatalogue[c].retryable ? 'yes' : 'no', errorCatalogue[c].description]),
)}

## By HTTP status

${table(
  ['Status', 'Codes'],
  [...byStatus.keys()].sort((a, b) => a - b).map((status) => [`${status} ${STATUS_TEXT[status] ?? ''}`.trim(), (byStatus.get(status) ?? []).map(code).join(', ')]),
)}
`;
}

// ---------------------------------------------------------------------------------------------------------------------
// protocol.md
// ---------------------------------------------------------------------------------------------------------------------

export function generateProtocolMarkdown(): string {
  const rt = realtimeSchemas();
  const md = new SchemaMarkdown(rt.components, { ErrorCode: '[an error code](errors.md#codes)' });
  const nameOf = (ref: Json): string => String(ref.$ref).split('/').pop() ?? '';
  const descriptionOf = (ref: Json): string => {
    const description = rt.components[nameOf(ref)]?.description;
    return typeof description === 'string' ? description : '';
  };
  const hello = rt.server.find((s) => s.type === 'hello');
  const response = rt.server.find((s) => s.type === 'response');
  if (!hello || !response) throw new Error('The server frames lack hello or response');

  const clientSections = rt.client.map((frame) => {
    const out = [`### \`${frame.type}\``, descriptionOf(frame.frame), md.fields(frame.frame)];
    out.push(`**Result**${frame.type === 'send' || frame.type === 'receipt' ? ` (${code(nameOf(frame.result))})` : ''}:\n\n${md.fields(frame.result)}`);
    const ex = EXAMPLE_BY_TYPE[`client:${frame.type}`];
    if (ex) out.push(`Example:\n\n${exampleBlock(ex)}`);
    return out.join('\n\n');
  });
  const serverSections = rt.server.map((frame) => {
    const out = [`### \`${frame.type}\``, descriptionOf(frame.frame), md.fields(frame.frame)];
    const ex = EXAMPLE_BY_TYPE[`server:${frame.type}`];
    if (ex) out.push(`Example:\n\n${exampleBlock(ex)}`);
    return out.join('\n\n');
  });
  const typeRoots = [
    ...new Set([
      ...rt.client.flatMap((c) => [...md.links(rt.components[nameOf(c.frame)]), ...md.links(rt.components[nameOf(c.result)])]),
      ...rt.server.flatMap((s) => md.links(rt.components[nameOf(s.frame)])),
    ]),
  ];
  const clientTypes = rt.client.map((c) => code(c.type)).join(', ');
  const serverTypes = rt.server.map((s) => code(s.type)).join(', ');
  const close = WS_CLOSE;

  return `# The realtime protocol (version ${PROTOCOL_VERSION})

> ${DO_NOT_EDIT} The machine-readable description is [api/asyncapi.json](api/asyncapi.json); the REST API is in [api/openapi.json](api/openapi.json).

Parley streams conversations over one WebSocket per client at \`${WS_PATH}\`. Everything the socket does is also possible over REST, except being told about new events: use the socket for that, and REST for history and uploads.

- Frames are JSON text frames; a binary frame closes the connection with ${close.POLICY}.
- The client sends **requests** (${clientTypes}). Each carries an \`id\` and gets exactly one \`response\` with the same \`id\`.
- The server sends ${serverTypes} frames: \`response\` answers a request, the others arrive on their own.

## Connecting and authenticating

Open a WebSocket to \`wss://<host>${WS_PATH}\` (\`ws://\` without TLS). The server first sends \`hello\`, with the protocol version, the heartbeat interval and the auth deadline:

${md.fields(hello.frame)}

Authenticate in one of two ways, with a user's or a consumer's access token, an API key (\`pak_...\`) or a bot's secret (\`pbt_...\`):

1. **Header**: send \`Authorization: Bearer <credential>\` on the upgrade request (servers, mobile apps, Node). Frames may be sent at once; they wait until the credential is checked.
2. **First frame**: browsers cannot set headers, so they send an \`auth\` request as their first frame, within \`authDeadlineMs\` of \`hello\`. Its response names the principal.

A credential that is not valid is answered with an error (for \`auth\`) and the close code ${close.UNAUTHENTICATED}, as is any other request before authentication, and a connection still unauthenticated at the deadline. Sending \`auth\` on an authenticated connection is a \`CONFLICT\`. When the access token of a connection expires, the server closes it with ${close.TOKEN_EXPIRED}: refresh the token, reconnect, resume. API keys do not expire.

## Requests and responses

Every client frame is a request \`{ "id": "...", "type": "...", ... }\`. The \`id\` (1 to 64 characters) is chosen by the client and should be unique on the connection; the server answers each request exactly once, with a \`response\` frame carrying the same \`id\`:

${md.fields(response.frame)}

- \`ok: true\`: \`result\` holds the result of the request type (listed with each request below).
- \`ok: false\`: \`error\` holds the error, as in REST: \`{ code, message, retryable, details? }\` (see [errors.md](errors.md)). A frame that fails validation is answered with \`VALIDATION_FAILED\` and \`details.issues\`; a frame that is not JSON with \`MALFORMED_JSON\` and an empty \`id\`.
- Requests on a connection are taken in the order they arrive. Pipelined \`send\`s are stored without waiting for one another (in one commit when they arrive together) and get their sequences in the order they were sent; their responses may come in another order (match them by \`id\`). Any other request waits until the \`send\`s before it are answered, so it sees them.

A request and its answer:

${exampleBlock(realtimeExamples.send)}

${exampleBlock(realtimeExamples.sendResponse)}

## Client frames

${clientSections.join('\n\n')}

## Server frames

${serverSections.join('\n\n')}

## Sequences, replay and resume

Every stored event of a conversation (content, rich content, receipts, participants joining or leaving, state changes) gets the conversation's next **sequence** number: 1, 2, 3 and so on. The sequence orders the conversation and is what a client resumes from.

- \`subscribe { conversationId, fromSeq }\` first replays the stored events with \`sequence >= fromSeq\`, oldest first, then streams live ones, in sequence order and without duplicates. Its response (\`lastSequence\`: the conversation's highest sequence when subscribing) comes before the replay.
- To resume after a reconnect, subscribe again with \`fromSeq\` = the last sequence the client has seen + 1. \`fromSeq: 0\` (the default) replays the whole conversation.
- Events a principal may not see are skipped: a consumer never receives internal notes (\`audience: "agents_and_managers"\`). **Sequences can therefore have gaps**; a gap is not a lost event. Do not wait for a missing number.
- Subscribing to a conversation the client already follows replaces the subscription. A reconnect starts with no subscriptions: subscribe again to each conversation.
- For older history use REST: \`${endpoints.listEvents.method} ${endpoints.listEvents.path}\` pages through events by sequence.

## Sending, idempotently

\`send\` carries a \`clientMessageId\` chosen by the client (for example a UUID made when the user pressed send). If the connection drops before the response, send the same frame again after reconnecting: if the first one was stored, the answer is the stored event's acknowledgement with \`duplicate: true\`, and nothing new is written. Reusing a \`clientMessageId\` for a different message is an \`IDEMPOTENCY_KEY_REUSED\` error. The same holds for \`${endpoints.sendEvent.method} ${endpoints.sendEvent.path}\`.

The acknowledgement carries the event's \`sequence\`; the event itself also arrives as an \`event\` frame on subscribed connections, including the sender's.

## Typing indicators

\`chat_state\` (\`composing\`, \`pause\`, \`active\`, \`inactive\`, \`gone\`) is **ephemeral**: it is relayed to the other participants subscribed to the conversation, never stored, has no sequence and is not replayed. A client that misses one simply shows no indicator.

## Conversation updates

Without subscribing, an authenticated connection receives a \`conversation\` frame whenever a conversation its principal may see changes: created, taken by an agent, closed. Agents use it for their queue; consumers to learn that their conversation was closed. The frame carries the conversation's whole summary, so only the latest one matters: when many conversations change at once (a burst of new conversations, a routing pass), a connection gets at most ten such writes a second, each changed conversation once with its latest summary, in the order they first changed; the first change after a quiet moment comes at once.

## Close codes

${closeCodesTable()}

Whatever the code, a client that reconnects resumes each subscription from its last sequence and resends any \`send\` it has no response for (same \`clientMessageId\`). Reconnect with exponential back-off and jitter.

## Heartbeats

- The server sends a WebSocket **ping** every \`heartbeatIntervalMs\` (from \`hello\`). A client that has not answered the previous ping with a pong is dropped. Browsers and WebSocket libraries answer pings by themselves.
- The client checks the server with the application-level \`ping\` request, answered with the server time. If no response comes within a few seconds, the client closes with ${close.HEARTBEAT_TIMEOUT}, reconnects and resumes.

${exampleBlock(realtimeExamples.ping)}

## Rate limits

Each connection may send a limited number of frames per second, with a burst allowance (a token bucket; the server configures both). A frame over the limit is not processed: it is answered with \`RATE_LIMITED\`, and \`details.retryAfterMs\` says when to send it again:

${exampleBlock(realtimeExamples.rateLimited)}

## Back-pressure

The server does not queue without bound for a client that reads slowly. When the frames waiting to be written to a connection pass the server's limit, it closes the connection with ${close.SLOW_CONSUMER}. The client reconnects and resumes from its last sequence; nothing is lost, since everything that matters is stored with a sequence. Keep the socket reader fast: hand frames to a queue rather than processing them in the read loop.

## Types

The types the frames refer to. Enumerations are written out where they are used.

${md.typeSections(typeRoots, 3)}
`;
}

// ---------------------------------------------------------------------------------------------------------------------
// All files
// ---------------------------------------------------------------------------------------------------------------------

/** Every generated file, by its path relative to the repository root. */
export function generateDocFiles(): Record<string, string> {
  return {
    'docs/api/openapi.json': json(generateOpenApi()),
    'docs/api/asyncapi.json': json(generateAsyncApi()),
    'docs/errors.md': generateErrorsMarkdown(),
    'docs/protocol.md': generateProtocolMarkdown(),
  };
}

/** The generated files whose copy on disk is missing or differs. */
export function staleDocFiles(files: Record<string, string> = generateDocFiles(), root: string = REPO_ROOT): string[] {
  const stale: string[] = [];
  for (const [file, content] of Object.entries(files)) {
    let current: string | undefined;
    try {
      current = readFileSync(path.join(root, file), 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== content) stale.push(file);
  }
  return stale;
}
