import { KindGuard, type TObject, type TSchema } from '@sinclair/typebox';

/**
 * Walking the config schema by property names. The environment matcher and the "did you mean"
 * hints both need the set of keys a mapping may hold, including mappings that are one branch
 * of a union (`http.auth` is `'none'`, a mapping or null).
 */

/** The object schemas a value at this schema may be: itself, or the object branches of a union. */
export function objectVariants(schema: TSchema): TObject[] {
  if (KindGuard.IsObject(schema)) return [schema];
  if (KindGuard.IsUnion(schema)) return schema.anyOf.flatMap(objectVariants);
  return [];
}

/** The properties a mapping at this schema may hold (merged over union branches). */
export function propertiesOf(schema: TSchema): Map<string, TSchema> {
  const out = new Map<string, TSchema>();
  for (const variant of objectVariants(schema)) {
    for (const [name, property] of Object.entries(variant.properties)) {
      if (!out.has(name)) out.set(name, property);
    }
  }
  return out;
}

/** Every key path reachable through mappings (not into lists), parents before children. */
export function propertyPaths(schema: TSchema, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [name, property] of propertiesOf(schema)) {
    const path = [...prefix, name];
    out.push(path);
    out.push(...propertyPaths(property, path));
  }
  return out;
}

/** The schema of the value at a key path, through mappings, union branches and list items. */
export function schemaAt(schema: TSchema, segments: readonly string[]): TSchema | undefined {
  let current: TSchema | undefined = schema;
  for (const segment of segments) {
    if (current === undefined) return undefined;
    if (/^[0-9]+$/.test(segment)) {
      const list: TSchema | undefined = KindGuard.IsArray(current)
        ? current
        : KindGuard.IsUnion(current)
          ? current.anyOf.find((s) => KindGuard.IsArray(s))
          : undefined;
      current = list && KindGuard.IsArray(list) ? list.items : undefined;
    } else {
      current = propertiesOf(current).get(segment);
    }
  }
  return current;
}
