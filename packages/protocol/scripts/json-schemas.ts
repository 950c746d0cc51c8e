import { z } from 'zod';
import * as protocol from '../src/index.ts';
import { ErrorBodySchema } from '../src/index.ts';

/**
 * Turns the contract's zod schemas into named JSON Schemas for `components/schemas` of the OpenAPI and AsyncAPI
 * documents. Every exported `...Schema` of @parley/protocol is a component named after its export (`UserSchema` is
 * `User`); schemas the documents need that have no export get a name from the generator (`ListUsersResponse`).
 * Only components reachable from the document's roots are kept.
 *
 * Requests are described as zod accepts them (`io: 'input'`: defaults make fields optional) and responses as zod
 * produces them (`io: 'output'`). A component used both ways whose two forms differ is emitted twice: `Name` (output)
 * and `NameInput`.
 */

export type Json = { [key: string]: unknown };
export type Io = 'input' | 'output';
export type Target = 'draft-2020-12' | 'draft-07';

export interface SchemaRoot {
  schema: z.ZodType;
  io: Io;
  /** The component name when the schema is not an exported `...Schema`. */
  name?: string;
}

export interface SchemaComponents {
  /** The components, sorted by name. */
  components: Record<string, Json>;
  /** A `$ref` to the component of a root schema. */
  ref(schema: z.ZodType, io: Io): Json;
}

export const COMPONENTS_PREFIX = '#/components/schemas/';

/** Exports that are only another name for a schema exported under a better name. */
const ALIASES = new Set(['LogoutRequestSchema']);

export const isJson = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Plain-data copy (drops `undefined`), so generated objects never share structure with zod's caches. */
export const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Visits every object node of a JSON value, depth first. */
export function walkJson(value: unknown, visit: (node: Json) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walkJson(item, visit);
  } else if (isJson(value)) {
    visit(value);
    for (const child of Object.values(value)) walkJson(child, visit);
  }
}

function rewriteRefs(value: unknown, rewrite: (ref: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, rewrite));
  if (!isJson(value)) return value;
  const out: Json = {};
  for (const [key, child] of Object.entries(value)) out[key] = key === '$ref' && typeof child === 'string' ? rewrite(child) : rewriteRefs(child, rewrite);
  return out;
}

function componentRefs(value: unknown): string[] {
  const refs: string[] = [];
  walkJson(value, (node) => {
    if (typeof node.$ref === 'string' && node.$ref.startsWith(COMPONENTS_PREFIX)) refs.push(node.$ref.slice(COMPONENTS_PREFIX.length));
  });
  return refs;
}

function reachable(starts: readonly string[], schemas: Record<string, Json>): Set<string> {
  const seen = new Set<string>();
  const queue = [...starts];
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    if (seen.has(id)) continue;
    const schema = schemas[id];
    if (!schema) throw new Error(`JSON Schema generation: no component "${id}"`);
    seen.add(id);
    queue.push(...componentRefs(schema));
  }
  return seen;
}

const byKey = <T>(entries: Iterable<[string, T]>): Record<string, T> => Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** The exported schemas of the contract with their component names, in a stable order. */
export function contractSchemas(): Array<[string, z.ZodType]> {
  const named: Array<[string, z.ZodType]> = [];
  for (const [exportName, value] of Object.entries(byKey(Object.entries(protocol)))) {
    if (value instanceof z.ZodType && exportName.endsWith('Schema') && !ALIASES.has(exportName)) named.push([exportName.slice(0, -'Schema'.length), value]);
  }
  // The error object inside the body: realtime `response` frames carry it on its own.
  named.push(['ErrorObject', ErrorBodySchema.shape.error]);
  return named;
}

/** A single schema, inline (no components): for parameters, whose properties are split into separate entries. */
export function inlineJsonSchema(schema: z.ZodType, io: Io, target: Target): Json {
  const { $schema: _, ...json } = clone(z.toJSONSchema(schema, { target, io, unrepresentable: 'any' }) as Json);
  return json;
}

/** Keywords that only annotate: they stay beside a `$ref` even when the target has the same ones. */
const ANNOTATIONS = new Set(['$ref', 'description', 'title', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly']);

/**
 * zod writes a schema derived from a named one (`Named.refine(...).describe(...)`) as `$ref` to the named schema plus a
 * copy of its keywords. Under `$ref` the copy adds nothing (both apply), so keywords equal to the target's are dropped.
 */
function dropInheritedCopies(schemas: Record<string, Json>): Record<string, Json> {
  for (const schema of Object.values(schemas)) {
    walkJson(schema, (node) => {
      if (typeof node.$ref !== 'string' || !node.$ref.startsWith(COMPONENTS_PREFIX)) return;
      const target = schemas[node.$ref.slice(COMPONENTS_PREFIX.length)];
      if (!target) return;
      const copied = Object.keys(node).filter((key) => !ANNOTATIONS.has(key));
      if (copied.length && copied.every((key) => key in target && JSON.stringify(node[key]) === JSON.stringify(target[key]))) {
        for (const key of copied) delete node[key];
      }
    });
  }
  return schemas;
}

export function buildComponents(target: Target, roots: readonly SchemaRoot[]): SchemaComponents {
  const registry = z.registry<{ id: string }>();
  const names = new Map<z.ZodType, string>();
  const register = (schema: z.ZodType, id: string): void => {
    if (names.has(schema)) return;
    if (registry._idmap.has(id)) throw new Error(`JSON Schema generation: two schemas are named "${id}"`);
    registry.add(schema, { id });
    names.set(schema, id);
  };
  for (const [id, schema] of contractSchemas()) register(schema, id);
  for (const root of roots) {
    if (names.has(root.schema)) continue;
    if (!root.name) throw new Error('JSON Schema generation: a root schema is neither exported nor named');
    register(root.schema, root.name);
  }
  const idOf = (schema: z.ZodType): string => {
    const id = names.get(schema);
    if (!id) throw new Error('JSON Schema generation: unregistered schema');
    return id;
  };

  const convert = (io: Io): Record<string, Json> => {
    const { schemas } = z.toJSONSchema(registry, { target, io, unrepresentable: 'any', cycles: 'ref', reused: 'inline', uri: (id) => `${COMPONENTS_PREFIX}${id}` });
    if ('__shared' in schemas) {
      throw new Error('JSON Schema generation: a recursive schema has no name; export it as `...Schema` from @parley/protocol so it becomes a component');
    }
    const out: Record<string, Json> = {};
    for (const [id, schema] of Object.entries(schemas)) {
      // `$id` (the component's URI) would change the base of relative `$ref`s; `$schema` is the document's business.
      const { $schema: _s, $id: _i, ...json } = clone(schema as Json);
      out[id] = json;
    }
    return out;
  };
  const inputs = dropInheritedCopies(convert('input'));
  const outputs = dropInheritedCopies(convert('output'));

  const inputRoots = roots.filter((r) => r.io === 'input').map((r) => idOf(r.schema));
  const outputRoots = roots.filter((r) => r.io === 'output').map((r) => idOf(r.schema));
  const usedAsInput = reachable(inputRoots, inputs);
  const usedAsOutput = reachable(outputRoots, outputs);

  // Components used both ways whose input form differs, directly or through a component they reference.
  const split = new Set<string>();
  for (const id of usedAsInput) if (usedAsOutput.has(id) && JSON.stringify(inputs[id]) !== JSON.stringify(outputs[id])) split.add(id);
  for (let grew = true; grew; ) {
    grew = false;
    for (const id of usedAsInput) {
      if (usedAsOutput.has(id) && !split.has(id) && componentRefs(inputs[id]).some((ref) => split.has(ref))) {
        split.add(id);
        grew = true;
      }
    }
  }
  const inputName = (id: string): string => (split.has(id) ? `${id}Input` : id);
  for (const id of split) {
    if (registry._idmap.has(inputName(id))) throw new Error(`JSON Schema generation: the input form of "${id}" would clash with the component "${inputName(id)}"`);
  }

  const components = new Map<string, Json>();
  for (const id of usedAsOutput) components.set(id, outputs[id] as Json);
  for (const id of usedAsInput) {
    if (usedAsOutput.has(id) && !split.has(id)) continue;
    const rewritten = rewriteRefs(inputs[id], (ref) => (ref.startsWith(COMPONENTS_PREFIX) ? COMPONENTS_PREFIX + inputName(ref.slice(COMPONENTS_PREFIX.length)) : ref));
    components.set(inputName(id), rewritten as Json);
  }

  return {
    components: byKey(components.entries()),
    ref: (schema, io) => ({ $ref: COMPONENTS_PREFIX + (io === 'input' ? inputName(idOf(schema)) : idOf(schema)) }),
  };
}
