import { KindGuard, type TSchema } from '@sinclair/typebox';
import { Value, type ValueError, ValueErrorType } from '@sinclair/typebox/value';
import { closest, formatPath, type RawProblem, showValue } from './problems.js';
import { propertyPaths } from './schema-walk.js';

/**
 * Schema validation turned into messages a user can act on. TypeBox reports what failed
 * ("Expected union value"); we say what was expected, in the words of the docs, and what was
 * found, one problem per key.
 */

/** Friendlier words for the string formats of schema.ts, keyed by their `description`. */
const STRING_FORMATS: Record<string, string> = {
  'host:port': 'host:port such as 127.0.0.1:8080',
};

/** Friendlier words for string patterns without a description. */
const STRING_PATTERNS: Record<string, string> = {
  '^[a-z0-9][a-z0-9_-]*$': "a name of lowercase letters, digits, '_' and '-'",
};

/** Values under these keys are secrets and never repeated in a message. */
const SECRET_KEY = /token|password|secret|api_?key/i;

/** Every problem TypeBox finds in `value`, at most one per key. */
export function schemaProblems(schema: TSchema, value: unknown): RawProblem[] {
  const out: RawProblem[] = [];
  collect(schema, schema, value, [], out, new Set());
  return out;
}

function collect(
  root: TSchema,
  schema: TSchema,
  value: unknown,
  base: string[],
  out: RawProblem[],
  seen: Set<string>,
) {
  for (const error of Value.Errors(schema, value)) {
    const segments = [...base, ...pointerSegments(error.path)];
    const id = segments.join('\u0000');
    if (seen.has(id)) continue;
    if (error.type === ValueErrorType.Union && KindGuard.IsUnion(error.schema)) {
      // Look inside the one branch that has the value's shape (a mapping given for `http.auth`
      // can only mean the tokens mapping), so the problem names the exact key inside it.
      const branch = error.schema.anyOf.filter((s) => sameKind(s, error.value));
      const only = branch.length === 1 ? branch[0] : undefined;
      if (only && (KindGuard.IsObject(only) || KindGuard.IsArray(only))) {
        const before = out.length;
        collect(root, only, error.value, segments, out, seen);
        if (out.length > before) continue;
      }
    }
    seen.add(id);
    out.push(toProblem(root, error, segments));
  }
}

function toProblem(root: TSchema, error: ValueError, segments: string[]): RawProblem {
  const key = segments[segments.length - 1] ?? '';
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return { segments, at: 'key', message: unknownKeyMessage(root, error.schema, segments) };
    case ValueErrorType.ObjectRequiredProperty:
      return {
        segments,
        at: 'parent',
        message: `missing required key '${key}' (expected ${describe(error.schema)})`,
      };
    default: {
      const got =
        SECRET_KEY.test(key) && typeof error.value === 'string'
          ? `a string of ${error.value.length} characters`
          : showValue(error.value);
      return { segments, at: 'value', message: `expected ${describe(error.schema)}, got ${got}` };
    }
  }
}

function unknownKeyMessage(root: TSchema, parent: TSchema, segments: string[]): string {
  const key = segments[segments.length - 1] ?? '';
  const known = KindGuard.IsObject(parent) ? Object.keys(parent.properties) : [];
  const near = closest(key, known);
  if (near !== undefined) return `unknown key '${key}'; did you mean '${near}'?`;
  // A key written at the wrong level (`listen:` at the top instead of under `http:`).
  const elsewhere = propertyPaths(root).find((path) => path[path.length - 1] === key);
  if (elsewhere) return `unknown key '${key}' here; did you mean '${formatPath(elsewhere)}'?`;
  return `unknown key '${key}' (known keys here: ${known.join(', ')})`;
}

/** What a schema accepts, in words: "host:port such as 127.0.0.1:8080 or null". */
export function describe(schema: TSchema): string {
  if (KindGuard.IsUnion(schema)) return alternatives(schema.anyOf.map(describe));
  if (KindGuard.IsLiteral(schema))
    return typeof schema.const === 'string' ? `'${schema.const}'` : String(schema.const);
  if (KindGuard.IsNull(schema)) return 'null';
  if (KindGuard.IsBoolean(schema)) return 'true or false';
  if (KindGuard.IsInteger(schema) || KindGuard.IsNumber(schema)) {
    const noun = KindGuard.IsInteger(schema) ? 'an integer' : 'a number';
    const { minimum, maximum } = schema;
    if (minimum !== undefined && maximum !== undefined) return `${noun} from ${minimum} to ${maximum}`;
    if (minimum !== undefined) return `${noun} of at least ${minimum}`;
    if (maximum !== undefined) return `${noun} of at most ${maximum}`;
    return noun;
  }
  if (KindGuard.IsString(schema)) {
    if (schema.description !== undefined) return STRING_FORMATS[schema.description] ?? schema.description;
    if (schema.pattern !== undefined)
      return STRING_PATTERNS[schema.pattern] ?? `a string matching ${schema.pattern}`;
    if ((schema.minLength ?? 0) > 1) return `a string of at least ${schema.minLength} characters`;
    return schema.minLength === 1 ? 'a non-empty string' : 'a string';
  }
  if (KindGuard.IsArray(schema)) {
    const min = schema.minItems ?? 0;
    return min > 0 ? `a list of at least ${min} item${min === 1 ? '' : 's'}` : 'a list';
  }
  if (KindGuard.IsObject(schema)) {
    const keys = Object.keys(schema.properties);
    return keys.length <= 3
      ? `a mapping with ${alternatives(
          keys.map((k) => `'${k}'`),
          'and',
        )}`
      : 'a mapping';
  }
  return 'a valid value';
}

function alternatives(items: string[], conjunction = 'or'): string {
  const unique = [...new Set(items)];
  if (unique.length <= 1) return unique[0] ?? '';
  return `${unique.slice(0, -1).join(', ')} ${conjunction} ${unique[unique.length - 1]}`;
}

/** Whether a value has the shape (mapping, list, string, ...) a schema branch expects. */
function sameKind(schema: TSchema, value: unknown): boolean {
  if (KindGuard.IsUnion(schema)) return schema.anyOf.some((s) => sameKind(s, value));
  if (KindGuard.IsObject(schema)) return typeof value === 'object' && value !== null && !Array.isArray(value);
  if (KindGuard.IsArray(schema)) return Array.isArray(value);
  if (KindGuard.IsString(schema)) return typeof value === 'string';
  if (KindGuard.IsLiteral(schema)) return typeof schema.const === typeof value;
  if (KindGuard.IsNull(schema)) return value === null;
  if (KindGuard.IsBoolean(schema)) return typeof value === 'boolean';
  if (KindGuard.IsInteger(schema) || KindGuard.IsNumber(schema)) return typeof value === 'number';
  return false;
}

/** JSON pointer (`/retention/0/name`, `~1` = `/`, `~0` = `~`) to key segments. */
function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
