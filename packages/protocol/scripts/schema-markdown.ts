import { COMPONENTS_PREFIX, isJson, type Json } from './json-schemas.ts';

/**
 * Renders JSON Schemas (as generated from the contract) as Markdown: field tables for objects, a short type notation
 * for everything else. Enum and primitive components are written inline; object components link to their section
 * (`[SendAck](#sendack)`), which `typeSections` renders.
 */

const SAFE_MAX = Number.MAX_SAFE_INTEGER;

export const code = (text: string): string => (text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``);

/** A table cell: pipes escaped (also inside code spans, which GFM allows), no line breaks. */
const cell = (text: string): string => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

/** GitHub's heading anchor for a plain heading. */
export const anchor = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');

export const refName = (ref: string): string => (ref.startsWith(COMPONENTS_PREFIX) ? ref.slice(COMPONENTS_PREFIX.length) : ref);

export class SchemaMarkdown {
  /** `typeNames` replaces how a component is written (e.g. a link to another document instead of a long enum). */
  constructor(
    private readonly components: Record<string, Json>,
    private readonly typeNames: Record<string, string> = {},
  ) {}

  /** A schema without its `$ref` resolved, but with single-entry `allOf` wrappers removed. */
  private unwrap(schema: Json): Json {
    if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && isJson(schema.allOf[0])) {
      const { allOf: _, ...rest } = schema;
      return { ...this.unwrap(schema.allOf[0]), ...rest };
    }
    return schema;
  }

  /** The component a `$ref` points to. */
  target(schema: Json): { name: string; schema: Json } | undefined {
    if (typeof schema.$ref !== 'string') return undefined;
    const name = refName(schema.$ref);
    const target = this.components[name];
    if (!target) throw new Error(`Markdown: unknown component ${schema.$ref}`);
    return { name, schema: target };
  }

  /** Enums, constants and primitives are written inline; objects, arrays and unions of them get their own section. */
  isInline(schema: Json): boolean {
    const s = this.unwrap(schema);
    if (typeof s.$ref === 'string') {
      const target = this.target(s);
      return target ? this.isInline(target.schema) : false;
    }
    if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) return false;
    return s.type !== 'object' && s.type !== 'array';
  }

  /** Components the schema links to (object-like ones, directly). */
  links(schema: unknown): string[] {
    const out: string[] = [];
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(visit);
      else if (isJson(value)) {
        const target = this.target(value);
        if (target) {
          if (this.isInline(target.schema)) visit(target.schema);
          else out.push(target.name);
          return;
        }
        Object.values(value).forEach(visit);
      }
    };
    visit(schema);
    return [...new Set(out)];
  }

  typeOf(schema: Json): string {
    const s = this.unwrap(schema);
    const target = this.target(s);
    if (target && this.typeNames[target.name]) return this.typeNames[target.name] as string;
    if (target) return this.isInline(target.schema) ? this.typeOf(target.schema) : `[${target.name}](#${anchor(target.name)})`;
    if ('const' in s) return code(JSON.stringify(s.const));
    if (Array.isArray(s.enum)) return s.enum.map((v) => code(JSON.stringify(v))).join(' | ');
    const variants = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
    if (variants) return variants.map((v) => (isJson(v) ? this.typeOf(v) : 'any')).join(' | ');
    if (s.type === 'array') {
      const item = isJson(s.items) ? this.typeOf(s.items) : 'any';
      return item.includes(' | ') ? `(${item})[]` : `${item}[]`;
    }
    if (s.type === 'object' && !isJson(s.properties) && isJson(s.additionalProperties)) {
      const value = Object.keys(s.additionalProperties).length ? this.typeOf(s.additionalProperties) : 'any';
      return `object (${value} values)`;
    }
    if (typeof s.type === 'string') return typeof s.format === 'string' ? `${code(s.type)} (${s.format})` : code(s.type);
    if (Array.isArray(s.type)) return s.type.map((t) => code(String(t))).join(' | ');
    return 'any';
  }

  /** Length, range, size and default, as a short sentence. */
  constraints(schema: Json): string {
    const s = this.unwrap(schema);
    const parts: string[] = [];
    const range = (min: unknown, max: unknown, unit: string): void => {
      const lo = typeof min === 'number' && Math.abs(min) < SAFE_MAX ? min : undefined;
      const hi = typeof max === 'number' && Math.abs(max) < SAFE_MAX ? max : undefined;
      const u = unit && (lo === 1 && hi === 1 ? unit.slice(0, -1) : unit);
      if (lo !== undefined && hi !== undefined) parts.push(lo === hi ? `exactly ${lo}${u}` : `${lo}–${hi}${unit}`);
      else if (lo !== undefined) parts.push(`at least ${lo}${unit}`);
      else if (hi !== undefined) parts.push(`at most ${hi}${unit}`);
    };
    range(s.minLength, s.maxLength, ' characters');
    range(s.minimum, s.maximum, '');
    if (typeof s.exclusiveMinimum === 'number') parts.push(`greater than ${s.exclusiveMinimum}`);
    if (typeof s.exclusiveMaximum === 'number') parts.push(`less than ${s.exclusiveMaximum}`);
    range(s.minItems, s.maxItems, ' items');
    if ('default' in s) parts.push(`default ${code(JSON.stringify(s.default))}`);
    if (!parts.length) return '';
    const text = parts.join(', ');
    return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
  }

  description(schema: Json): string {
    const s = this.unwrap(schema);
    if (typeof s.description === 'string') return s.description;
    const target = this.target(s);
    return target && typeof target.schema.description === 'string' ? target.schema.description : '';
  }

  /** One row per field; inline nested objects (and arrays of them) add rows with dotted paths. */
  rows(schema: Json, prefix = ''): string[][] {
    const s = this.unwrap(schema);
    const properties = isJson(s.properties) ? s.properties : {};
    const required = new Set(Array.isArray(s.required) ? s.required : []);
    const rows: string[][] = [];
    for (const [key, value] of Object.entries(properties)) {
      if (!isJson(value)) continue;
      const field = this.unwrap(value);
      const notes = [this.constraints(field), this.description(field)].filter(Boolean).join(' ');
      rows.push([code(prefix + key), this.typeOf(field), required.has(key) ? 'yes' : 'no', notes]);
      if (field.type === 'object' && isJson(field.properties) && !field.$ref) rows.push(...this.rows(field, `${prefix}${key}.`));
      if (field.type === 'array' && isJson(field.items) && !field.items.$ref && this.unwrap(field.items).type === 'object') rows.push(...this.rows(field.items, `${prefix}${key}[].`));
    }
    return rows;
  }

  /** The field table of an object schema (resolving a `$ref`), or a sentence when it has no fields. */
  fields(schema: Json): string {
    const target = this.target(this.unwrap(schema));
    const object = target ? target.schema : this.unwrap(schema);
    const rows = this.rows(object);
    const open = object.additionalProperties === true || (isJson(object.additionalProperties) && !Object.keys(object.additionalProperties).length);
    if (!rows.length) return open ? 'An object with any fields.' : 'An empty object, `{}`.';
    return `${table(['Field', 'Type', 'Required', 'Description'], rows)}${open ? '\n\nOther fields are allowed.' : ''}`;
  }

  /** A section per object-like component reachable from `roots`, sorted by name. */
  typeSections(roots: readonly string[], level: number): string {
    const names = new Set<string>();
    const queue = [...roots];
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      if (names.has(name)) continue;
      names.add(name);
      queue.push(...this.links(this.components[name]));
    }
    const hashes = '#'.repeat(level);
    const sections: string[] = [];
    for (const name of [...names].sort()) {
      const schema = this.unwrap(this.components[name] as Json);
      const out = [`${hashes} ${name}`];
      if (typeof schema.description === 'string') out.push(schema.description);
      const target = this.target(schema);
      const variants = Array.isArray(schema.oneOf) ? schema.oneOf : Array.isArray(schema.anyOf) ? schema.anyOf : undefined;
      if (target) {
        out.push(`Same shape as [${target.name}](#${anchor(target.name)}).`);
      } else if (variants) {
        out.push(`One of ${variants.length}:`);
        for (const variant of variants) {
          if (!isJson(variant)) continue;
          const v = this.unwrap(variant);
          const discriminator = isJson(v.properties) ? Object.entries(v.properties).find(([, p]) => isJson(p) && ('const' in p || Array.isArray(p.enum))) : undefined;
          if (v.type === 'object' && !v.$ref) {
            const label = discriminator && isJson(discriminator[1]) ? `${code(discriminator[0])} = ${this.typeOf(discriminator[1])}` : 'An object';
            out.push(`**${label}**\n\n${this.fields(v)}`);
          } else {
            out.push(`- ${this.typeOf(v)}`);
          }
        }
      } else if (schema.type === 'object') {
        out.push(this.fields(schema));
      } else {
        out.push(`Type: ${this.typeOf(schema)}.`);
      }
      sections.push(out.join('\n\n'));
    }
    return sections.join('\n\n');
  }
}
