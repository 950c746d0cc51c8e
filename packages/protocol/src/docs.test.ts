import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import specs from '@asyncapi/specs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { endpointErrorCodes, generateAsyncApi, generateDocFiles, generateOpenApi, openApiPath, pathParams, staleDocFiles } from '../scripts/api-docs.ts';
import { type Endpoint, type EndpointName, endpoints } from './endpoints.ts';
import { errorCatalogue } from './errors.ts';
import { OAUTH_TOKEN_PATH, oauthErrorStatus } from './oauth.ts';
import { ApiKeyScopeSchema } from './rest.ts';
import { ClientFrameSchema, ServerFrameSchema, WS_CLOSE } from './realtime.ts';

type Json = { [key: string]: unknown };
const isJson = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every `$ref` in a document, with where it was found. */
function refsOf(value: unknown, at = '#'): Array<{ ref: string; at: string }> {
  if (Array.isArray(value)) return value.flatMap((item, i) => refsOf(item, `${at}/${i}`));
  if (!isJson(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => (key === '$ref' && typeof child === 'string' ? [{ ref: child, at }] : refsOf(child, `${at}/${key}`)));
}

/** Resolves a local JSON pointer (`#/a/b~1c`). */
function resolve(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isJson(node)) node = node[key];
    else return undefined;
  }
  return node;
}

const get = (value: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((node, key) => (isJson(node) ? node[key] : undefined), value);
const entries = Object.entries(endpoints) as Array<[EndpointName, Endpoint]>;
const frameTypes = (schema: typeof ClientFrameSchema | typeof ServerFrameSchema): string[] => schema.options.map((o) => o.shape.type.value);

describe('generated API docs', () => {
  const files = generateDocFiles();

  it('are up to date on disk (run `npm run docs:generate` after changing the contract)', () => {
    expect(staleDocFiles(files)).toEqual([]);
  });

  it('are deterministic', () => {
    expect(generateDocFiles()).toEqual(files);
  });

  it('--check notices a file that differs or is missing', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'parley-docs-'));
    try {
      for (const [file, content] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
        writeFileSync(path.join(root, file), content);
      }
      expect(staleDocFiles(files, root)).toEqual([]);
      writeFileSync(path.join(root, 'docs/errors.md'), `${files['docs/errors.md']}\nedited by hand\n`);
      rmSync(path.join(root, 'docs/api/asyncapi.json'));
      expect(staleDocFiles(files, root).sort()).toEqual(['docs/api/asyncapi.json', 'docs/errors.md']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('docs/errors.md', () => {
  const markdown = generateDocFiles()['docs/errors.md'] ?? '';
  const rows = [...markdown.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \| (yes|no) \| (.*) \|$/gm)].map((m) => ({ code: m[1], status: Number(m[2]), retryable: m[3] === 'yes', description: m[4] }));

  it('lists exactly the codes of the error catalogue, once each', () => {
    expect(rows.map((r) => r.code)).toEqual(Object.keys(errorCatalogue));
  });

  it('gives each code its catalogue status, retryability and description', () => {
    for (const row of rows) {
      const entry = errorCatalogue[row.code as keyof typeof errorCatalogue];
      expect(row).toEqual({ code: row.code, status: entry.status, retryable: entry.retryable, description: entry.description });
    }
  });

  it('explains the error body and validation issues', () => {
    expect(markdown).toContain('{ error: { code, message, retryable, details?, requestId? } }');
    expect(markdown).toContain('details.issues');
    expect(markdown).toContain('{ path, message, code }');
  });
});

describe('docs/api/openapi.json', () => {
  const doc = generateOpenApi();
  const paths = get(doc, 'paths') as Record<string, Record<string, Json>>;

  it('is OpenAPI 3.1 with the required top-level fields', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(get(doc, 'info', 'title')).toEqual(expect.any(String));
    expect(get(doc, 'info', 'version')).toEqual(expect.any(String));
    for (const p of Object.keys(paths)) expect(p).toMatch(/^\//);
    for (const name of Object.keys(get(doc, 'components', 'schemas') as Json)) expect(name).toMatch(/^[a-zA-Z0-9._-]+$/);
  });

  it('validates against the official OpenAPI 3.1 JSON schema (bundled in @seriousme/openapi-schema-validator)', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // The same validator refuses a broken document, so a pass means something.
    const broken = structuredClone(doc) as Json;
    (get(broken, 'paths', openApiPath(endpoints.me.path), 'get') as Json).responses = 'none';
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('has every endpoint, under its path and method, exactly once, and the OAuth token endpoint', () => {
    const operations = Object.entries(paths)
      .filter(([p]) => p !== OAUTH_TOKEN_PATH)
      .flatMap(([, item]) => Object.values(item));
    expect(paths[OAUTH_TOKEN_PATH]?.post?.operationId).toBe('oauthToken');
    expect(operations.map((op) => op.operationId).sort()).toEqual(Object.keys(endpoints).sort());
    for (const [name, endpoint] of entries) {
      const operation = paths[openApiPath(endpoint.path)]?.[endpoint.method.toLowerCase()];
      expect(operation, `${endpoint.method} ${endpoint.path}`).toBeDefined();
      expect(operation?.operationId).toBe(name);
      expect(operation?.summary).toBe(endpoint.summary);
    }
  });

  it('resolves every $ref', () => {
    const refs = refsOf(doc);
    expect(refs.length).toBeGreaterThan(50);
    for (const { ref, at } of refs) {
      expect(ref, `$ref at ${at}`).toMatch(/^#\//);
      expect(resolve(doc, ref), `${ref} (at ${at})`).toBeDefined();
    }
  });

  it('declares each path parameter, and only those, as required path parameters', () => {
    for (const [name, endpoint] of entries) {
      const parameters = (paths[openApiPath(endpoint.path)]?.[endpoint.method.toLowerCase()]?.parameters ?? []) as Json[];
      const inPath = parameters.filter((p) => p.in === 'path');
      expect(inPath.map((p) => p.name).sort(), name).toEqual(pathParams(endpoint.path).sort());
      for (const p of inPath) expect(p.required, `${name}: ${String(p.name)}`).toBe(true);
      for (const p of parameters) {
        expect(['path', 'query', 'header', 'cookie']).toContain(p.in);
        expect(isJson(p.schema), `${name}: ${String(p.name)} has a schema`).toBe(true);
      }
      // Every `{param}` of the OpenAPI path is declared.
      for (const m of openApiPath(endpoint.path).matchAll(/\{([^}]+)\}/g))
        expect(
          inPath.some((p) => p.name === m[1]),
          `${name}: {${m[1]}}`,
        ).toBe(true);
    }
  });

  it('documents query parameters from the query schema', () => {
    const parameters = paths[openApiPath(endpoints.listEvents.path)]?.get?.parameters as Json[];
    expect(parameters.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(['fromSeq', 'beforeSeq', 'limit']);
  });

  it('describes request bodies: JSON, or multipart with a binary `file`', () => {
    for (const [name, endpoint] of entries) {
      const body = paths[openApiPath(endpoint.path)]?.[endpoint.method.toLowerCase()]?.requestBody;
      if (endpoint.bodyKind === 'multipart') {
        expect(get(body, 'content', 'multipart/form-data', 'schema', 'properties', 'file', 'format'), name).toBe('binary');
        expect(get(body, 'content', 'multipart/form-data', 'schema', 'required'), name).toEqual(['file']);
      } else if (endpoint.body) {
        expect(get(body, 'content', 'application/json', 'schema', '$ref'), name).toEqual(expect.stringMatching(/^#\/components\/schemas\//));
      } else {
        expect(body, name).toBeUndefined();
      }
    }
  });

  it("answers with the endpoint's status and schema, and shared error responses", () => {
    for (const [name, endpoint] of entries) {
      const operation = paths[openApiPath(endpoint.path)]?.[endpoint.method.toLowerCase()] ?? {};
      const responses = operation.responses as Record<string, Json>;
      for (const status of Object.keys(responses)) expect(status).toMatch(/^[1-5]\d\d$/);
      const success = responses[String(endpoint.status)];
      expect(success, name).toBeDefined();
      if (endpoint.status === 204) expect(success?.content, name).toBeUndefined();
      else if (endpoint.response) expect(get(success, 'content', 'application/json', 'schema', '$ref'), name).toEqual(expect.stringMatching(/^#\/components\/schemas\//));

      const expected = new Set(endpointErrorCodes(name).map((c) => String(errorCatalogue[c].status)));
      expect(
        Object.keys(responses)
          .filter((s) => s !== String(endpoint.status))
          .sort(),
        name,
      ).toEqual([...expected].sort());
      expect(expected.has('400'), name).toBe(true);
      for (const status of expected) {
        const response = resolve(doc, String(get(responses[status], '$ref')));
        expect(get(response, 'content', 'application/json', 'schema', '$ref'), `${name} ${status}`).toBe('#/components/schemas/ErrorBody');
        for (const c of get(response, 'x-parley-error-codes') as string[]) expect(String(errorCatalogue[c as keyof typeof errorCatalogue].status)).toBe(status);
      }
      if (!('public' in endpoint.access)) {
        expect(expected.has('401') && expected.has('403'), name).toBe(true);
      }
    }
  });

  it('states who may call each endpoint, with security schemes that exist', () => {
    const schemes = Object.keys(get(doc, 'components', 'securitySchemes') as Json);
    for (const [name, endpoint] of entries) {
      const operation = paths[openApiPath(endpoint.path)]?.[endpoint.method.toLowerCase()] ?? {};
      const security = operation.security as Json[];
      const access = operation['x-parley-access'] as Json;
      if ('public' in endpoint.access) {
        expect(security, name).toEqual([]);
        expect(access, name).toEqual({ public: true });
        continue;
      }
      expect(security.length, name).toBeGreaterThan(0);
      for (const requirement of security) for (const scheme of Object.keys(requirement)) expect(schemes).toContain(scheme);
      expect(access, name).toEqual({
        public: false,
        roles: [...(endpoint.access.users ?? [])],
        consumer: endpoint.access.consumer === true,
        apiKeyScopes: endpoint.access.apiKeyScopes ? [...endpoint.access.apiKeyScopes] : null,
      });
    }
  });

  it('describes OAuth 2.0 client credentials: the flow, its scopes, and the token endpoint with RFC 6749 errors', () => {
    const oauth2 = get(doc, 'components', 'securitySchemes', 'oauth2') as Json;
    expect(get(oauth2, 'flows', 'clientCredentials', 'tokenUrl')).toBe(OAUTH_TOKEN_PATH);
    expect(Object.keys(get(oauth2, 'flows', 'clientCredentials', 'scopes') as Json)).toEqual(ApiKeyScopeSchema.options);
    const token = paths[OAUTH_TOKEN_PATH]?.post ?? {};
    expect(Object.keys(get(token, 'requestBody', 'content') as Json)).toEqual(['application/x-www-form-urlencoded', 'application/json']);
    expect(Object.keys(token.responses as Json).sort()).toEqual(['200', ...new Set(Object.values(oauthErrorStatus).map(String))].sort());
    expect(get(token, 'responses', '401', 'content', 'application/json', 'schema', '$ref')).toBe('#/components/schemas/OAuthError');
    // Every operation an API key may call may also be called with a client-credentials token of the same scopes.
    for (const [name, endpoint] of entries) {
      if ('public' in endpoint.access || !endpoint.access.apiKeyScopes) continue;
      const security = paths[openApiPath(endpoint.path)]?.[endpoint.method.toLowerCase()]?.security as Json[];
      expect(security, name).toContainEqual({ oauth2: [...endpoint.access.apiKeyScopes] });
    }
  });

  it('describes recursive structured content with a self-reference, not inline $defs', () => {
    const schemas = get(doc, 'components', 'schemas') as Json;
    expect(JSON.stringify(schemas.StructuredElement)).toContain('"$ref":"#/components/schemas/StructuredElement"');
    expect(get(schemas, 'StructuredContent', '$ref')).toBe('#/components/schemas/StructuredElement');
    const text = JSON.stringify(doc);
    expect(text).not.toContain('"$defs"');
    expect(text).not.toContain('"$id"');
    expect(text).not.toContain('__shared');
  });
});

describe('docs/api/asyncapi.json', () => {
  const doc = generateAsyncApi();
  const messages = get(doc, 'components', 'messages') as Record<string, Json>;

  it('validates against the official AsyncAPI 3.0.0 JSON schema (from @asyncapi/specs)', () => {
    // The schema bundles its own copy of the draft-07 meta-schema, hence meta: false. @asyncapi/parser would add
    // Spectral rules on top, but pulls in some 60 packages; the JSON schema is the normative part.
    const ajv = new Ajv({ strict: false, allErrors: true, meta: false, validateSchema: false });
    addFormats(ajv);
    const validate = ajv.compile(specs.schemas['3.0.0'] as object);
    expect(validate(doc) ? [] : validate.errors).toEqual([]);
    const broken = structuredClone(doc) as Json;
    (get(broken, 'channels', 'realtime') as Json).address = 42;
    expect(validate(broken)).toBe(false);
  });

  it('is AsyncAPI 3.0 for the WebSocket path', () => {
    expect(doc.asyncapi).toBe('3.0.0');
    expect(get(doc, 'channels', 'realtime', 'address')).toBe('/v1/ws');
    const description = String(get(doc, 'channels', 'realtime', 'description'));
    for (const [name, code] of Object.entries(WS_CLOSE)) expect(description).toContain(`| ${code} | \`${name}\` |`);
  });

  it('resolves every $ref', () => {
    for (const { ref, at } of refsOf(doc)) expect(resolve(doc, ref), `${ref} (at ${at})`).toBeDefined();
  });

  it('has a message for each client and server frame, with the frame schema as payload', () => {
    const payloadType = (message: Json | undefined): unknown => get(resolve(doc, String(get(message, 'payload', '$ref'))), 'properties', 'type', 'const');
    for (const type of frameTypes(ClientFrameSchema)) {
      const message = Object.values(messages).find((m) => m.name === type && String(get(m, 'payload', '$ref')).includes('/Client'));
      expect(payloadType(message), type).toBe(type);
    }
    for (const type of frameTypes(ServerFrameSchema)) {
      const message = Object.values(messages).find((m) => m.name === type && String(get(m, 'payload', '$ref')).includes('/Server'));
      expect(payloadType(message), type).toBe(type);
    }
  });

  it('answers every request with a typed response', () => {
    const operations = Object.values(get(doc, 'operations') as Record<string, Json>).filter((op) => op.action === 'receive');
    expect(operations).toHaveLength(frameTypes(ClientFrameSchema).length);
    for (const operation of operations) {
      const [reply] = get(operation, 'reply', 'messages') as Json[];
      let message = resolve(doc, String(reply?.$ref)) as Json;
      while (typeof message.$ref === 'string') message = resolve(doc, message.$ref) as Json;
      expect(message.name).toBe('response');
      for (const m of [...(operation.messages as Json[]), reply]) expect(String(m?.$ref)).toMatch(/^#\/channels\/realtime\/messages\//);
    }
  });
});

describe('docs/protocol.md', () => {
  const markdown = generateDocFiles()['docs/protocol.md'] ?? '';

  it('has a section with a field table for each frame type', () => {
    for (const type of new Set([...frameTypes(ClientFrameSchema), ...frameTypes(ServerFrameSchema)])) {
      expect(markdown).toContain(`### \`${type}\`\n`);
    }
    expect(markdown).toContain('| Field | Type | Required | Description |');
  });

  it('covers authentication, resume, idempotency, close codes, heartbeats, rate limits and back-pressure', () => {
    for (const text of [
      'Authorization: Bearer',
      'authDeadlineMs',
      'fromSeq',
      'gaps',
      'clientMessageId',
      'ephemeral',
      'heartbeatIntervalMs',
      'RATE_LIMITED',
      'details.retryAfterMs',
      String(WS_CLOSE.SLOW_CONSUMER),
    ]) {
      expect(markdown).toContain(text);
    }
    for (const [name, code] of Object.entries(WS_CLOSE)) expect(markdown).toContain(`| ${code} | \`${name}\` |`);
  });

  it('links only to type sections that exist', () => {
    const anchors = new Set(
      [...markdown.matchAll(/^#+ (.+)$/gm)].map((m) =>
        (m[1] ?? '')
          .toLowerCase()
          .replace(/[^a-z0-9 _-]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const m of markdown.matchAll(/\]\(#([^)]+)\)/g)) expect(anchors, `#${m[1]}`).toContain(m[1]);
  });
});
