import { KindGuard, type TSchema } from '@sinclair/typebox';
import { propertiesOf } from './schema-walk.js';

/**
 * Filling in the schema's defaults. This is a small walk of our own rather than TypeBox's
 * Value.Default, which merges a mapping's `default: {}` into whatever value is there with
 * Object.assign: `http: [a]` would become `{ '0': 'a', listen: ... }` and the user would be told
 * about an unknown key '0' instead of "expected a mapping, got a list". Here a default fills a
 * key only where the value around it already has the right shape; anything else is left for
 * the validator to describe.
 */
export function applyDefaults(schema: TSchema, value: unknown): unknown {
  let out = value;
  if (out === undefined && 'default' in schema) out = structuredClone(schema.default);
  if (KindGuard.IsUnion(schema)) {
    // Only a mapping (or list) with exactly one branch of its shape has inner defaults to fill.
    const branches = schema.anyOf.filter((s) =>
      isRecord(out) ? KindGuard.IsObject(s) : Array.isArray(out) && KindGuard.IsArray(s),
    );
    return branches.length === 1 ? applyDefaults(branches[0]!, out) : out;
  }
  if (KindGuard.IsObject(schema) && isRecord(out)) {
    for (const [key, property] of Object.entries(schema.properties)) {
      const filled = applyDefaults(property, out[key]);
      if (filled !== undefined) out[key] = filled;
    }
  } else if (KindGuard.IsArray(schema) && Array.isArray(out)) {
    out = out.map((item) => applyDefaults(schema.items, item));
  }
  return out;
}

/**
 * `docker:` with every child commented out is YAML null; for a mapping that means "all
 * defaults", so such nulls are dropped before defaults apply. Lists and nullable keys keep
 * their null (for `retention` an error is safer than a guess). Mutates `value`.
 */
export function dropNullMappings(schema: TSchema, value: Record<string, unknown>): Record<string, unknown> {
  const properties = propertiesOf(schema);
  for (const [key, child] of Object.entries(value)) {
    const property = properties.get(key);
    if (!property) continue;
    if (child === null && KindGuard.IsObject(property)) delete value[key];
    else if (isRecord(child)) dropNullMappings(property, child);
    else if (Array.isArray(child) && KindGuard.IsArray(property)) {
      for (const item of child) if (isRecord(item)) dropNullMappings(property.items, item);
    }
  }
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
