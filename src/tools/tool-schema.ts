import { z, type ZodType } from 'zod';
import type { JsonSchema } from './tool.js';
import { firstLine } from '../errors.js';

/** A tool's arguments, ready for both sides of a call: the grammar the model writes under, and the check after. */
export interface CompiledToolSchema {
  /**
   * The JSON schema the model is shown and constrained by, cut down to what node-llama-cpp's grammar can
   * enforce (types, enums, required properties, lengths). Keywords it cannot enforce (patterns, ranges) are
   * still checked by `validate`.
   */
  grammar: JsonSchema;
  /** Checks arguments against the full schema: the parsed value, or a one-line reason. */
  validate(args: unknown): { ok: true; value: unknown } | { ok: false; reason: string };
}

const IMMUTABLE_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);
const STRING_FORMATS = new Set(['date-time', 'time', 'date']);

/** Throws a one-line Error (without the tool's name: the caller adds it) when `parameters` is unusable. */
export function compileToolSchema(parameters: JsonSchema | ZodType): CompiledToolSchema {
  const zod = isZodSchema(parameters) ? parameters : fromJsonSchema(parameters);
  const json = isZodSchema(parameters) ? toJsonSchema(parameters) : parameters;
  if (json.type !== 'object') throw new Error('its parameters must describe an object (type "object")');
  return {
    grammar: grammarSchema(json),
    validate(args) {
      const parsed = zod.safeParse(args);
      if (parsed.success) return { ok: true, value: parsed.data };
      const reason = parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
      return { ok: false, reason };
    },
  };
}

export function isZodSchema(value: unknown): value is ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value && typeof (value as { safeParse?: unknown }).safeParse === 'function';
}

function toJsonSchema(schema: ZodType): JsonSchema {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  } catch (e) {
    throw new Error(`its zod parameters cannot be written as a JSON schema (${firstLine(e)})`);
  }
}

function fromJsonSchema(schema: JsonSchema): ZodType {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new Error('its parameters are neither a JSON schema nor a zod schema');
  try {
    return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (e) {
    throw new Error(`its parameters are not a JSON schema earshot can read (${firstLine(e)})`);
  }
}

/** The subset of JSON schema node-llama-cpp turns into a grammar; the rest is left to validate(). */
function grammarSchema(s: JsonSchema): JsonSchema {
  const out: Record<string, unknown> = {};
  if (typeof s.description === 'string') out.description = s.description;
  if (isObject(s.$defs)) out.$defs = mapValues(s.$defs, grammarSchema);
  if (typeof s.$ref === 'string') return { ...out, $ref: s.$ref };
  if ('const' in s) return { ...out, const: s.const };
  if (Array.isArray(s.enum)) return { ...out, enum: s.enum };
  const union = s.oneOf ?? s.anyOf;
  if (Array.isArray(union)) return { ...out, oneOf: union.filter(isObject).map(grammarSchema) };

  const types = Array.isArray(s.type) ? (s.type as unknown[]) : s.type === undefined ? [] : [s.type];
  if (types.length > 1) {
    if (types.every((t) => IMMUTABLE_TYPES.has(String(t)))) return { ...out, type: types };
    return { ...out, oneOf: types.map((t) => grammarSchema({ ...s, type: t })) };
  }
  const type = types[0] ?? (isObject(s.properties) ? 'object' : undefined);
  if (type === 'object') {
    out.type = 'object';
    if (isObject(s.properties)) out.properties = mapValues(s.properties, grammarSchema);
    if (Array.isArray(s.required)) out.required = s.required;
    if (typeof s.additionalProperties === 'boolean') out.additionalProperties = s.additionalProperties;
    else if (isObject(s.additionalProperties)) out.additionalProperties = grammarSchema(s.additionalProperties);
    copyNumbers(s, out, ['minProperties', 'maxProperties']);
    return out;
  }
  if (type === 'array') {
    out.type = 'array';
    if (isObject(s.items)) out.items = grammarSchema(s.items);
    if (Array.isArray(s.prefixItems)) out.prefixItems = s.prefixItems.filter(isObject).map(grammarSchema);
    copyNumbers(s, out, ['minItems', 'maxItems']);
    return out;
  }
  if (type === 'string') {
    out.type = 'string';
    if (typeof s.format === 'string' && STRING_FORMATS.has(s.format)) out.format = s.format;
    else copyNumbers(s, out, ['minLength', 'maxLength']);
    return out;
  }
  if (type !== undefined && IMMUTABLE_TYPES.has(String(type))) return { ...out, type };
  // Any value: the grammar allows every scalar; validate() has the last word.
  return { ...out, type: [...IMMUTABLE_TYPES] };
}

function copyNumbers(from: JsonSchema, to: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of keys) if (typeof from[k] === 'number') to[k] = from[k];
}

function isObject(v: unknown): v is JsonSchema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mapValues(o: JsonSchema, f: (v: JsonSchema) => JsonSchema): JsonSchema {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => isObject(v)).map(([k, v]) => [k, f(v as JsonSchema)]));
}
