import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.js';

describe('docs/errors.md', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  /** The codes in the first column of the table. */
  const documented = [...doc.matchAll(/^\|\s*`(LOGWHARF_ERR_[A-Z_]+)`\s*\|/gm)].map((m) => m[1]);

  it.each(Object.keys(ERROR_CODES))('lists %s in the table', (code) => {
    expect(documented).toContain(code);
  });

  it('lists no code that does not exist, and each once', () => {
    expect([...documented].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });
});
