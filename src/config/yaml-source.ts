import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { ConfigProblem, RawProblem } from './problems.js';

/**
 * A config file parsed with positions, so a problem found later on the plain value (by the
 * schema or a cross-field check) can be reported at the line and column of its key or value.
 */
export interface YamlSource {
  /** The file as the user named it (that is what editors and terminals make clickable). */
  file: string;
  /** The plain value; undefined when the file has syntax errors. */
  data: unknown;
  /** YAML syntax errors, each with its position. */
  syntaxProblems: ConfigProblem[];
  /** 1-based line and column for a problem at a key path. */
  locate(segments: readonly string[], at: RawProblem['at']): { line: number; column: number };
}

interface Ranged {
  range?: [number, number, number] | null;
}

export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const syntaxProblems: ConfigProblem[] = doc.errors.map((error) => ({
    path: '',
    message: `YAML syntax error: ${error.message}`,
    file,
    ...position(error.pos[0]),
    source: 'file',
  }));

  const locate = (segments: readonly string[], at: RawProblem['at']) => {
    let node: unknown = doc.contents;
    let anchor: Ranged | null = null; // the deepest key (or list item) found on the path
    let found = 0;
    for (const segment of segments) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === segment,
        );
        if (!pair) break;
        anchor = pair.key as Ranged;
        node = pair.value;
      } else if (isSeq(node) && /^[0-9]+$/.test(segment)) {
        const item = node.items[Number(segment)];
        if (item === undefined) break;
        anchor = item as Ranged;
        node = item;
      } else {
        break;
      }
      found++;
    }
    if (found === segments.length && at === 'value' && hasPosition(node)) return position(node.range[0]);
    if (anchor?.range) return position(anchor.range[0]);
    const root = doc.contents as Ranged | null;
    return position(root?.range?.[0] ?? 0);
  };

  let data: unknown;
  if (syntaxProblems.length === 0) {
    try {
      data = doc.toJS();
    } catch (error) {
      // toJS refuses alias bombs (an alias expanded too many times) and aliases to nowhere.
      syntaxProblems.push({
        path: '',
        message: `YAML error: ${(error as Error).message}`,
        file,
        line: 1,
        column: 1,
        source: 'file',
      });
    }
  }
  return { file, data, syntaxProblems, locate };
}

/** A node with a range of its own (an empty value, `key:`, has none worth pointing at). */
function hasPosition(node: unknown): node is { range: [number, number, number] } {
  if (node === null || typeof node !== 'object') return false;
  const range = (node as Ranged).range;
  return Array.isArray(range) && range[1] > range[0];
}
