import { describe, expect, it } from 'vitest';
import { sanitizeMessage } from '../../src/transforms/sanitize.js';

const R = '\uFFFD';

describe('sanitizeMessage', () => {
  it('returns the very same string when there is nothing to change', () => {
    for (const s of [
      '',
      'plain text',
      'tab\tseparated',
      'multi\nline',
      'ünïcödé ☕ 😀',
      `already ${R} replaced`,
    ]) {
      expect(sanitizeMessage(s)).toBe(s);
    }
  });

  it.each([
    ['SGR colours', '\x1b[31mred\x1b[0m and \x1b[1;32mbold green\x1b[m', 'red and bold green'],
    ['256 colours and true colour', '\x1b[38;5;208morange\x1b[38;2;1;2;3mrgb\x1b[0m', 'orangergb'],
    ['cursor movement and erase', 'progress\x1b[2K\x1b[1G50%\x1b[?25l', 'progress50%'],
    ['CSI with intermediate byte', 'a\x1b[0 qb', 'ab'],
    ['OSC title ended by BEL', '\x1b]0;my title\x07after', 'after'],
    ['OSC 8 hyperlink ended by ST', '\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\ text', 'link text'],
    ['DCS string', 'x\x1bPq#0;2;0;0;0\x1b\\y', 'xy'],
    ['charset designation from tput sgr0', 'done\x1b(B\x1b[m', 'done'],
    ['ESC + one char', 'a\x1b7b\x1b8c\x1bMd', 'abcd'],
    ['lone ESC at the end', 'end\x1b', 'end'],
    ['ESC before a non-ASCII char', 'a\x1bé', 'aé'],
    ['CSI cut short at the end', 'text\x1b[12;3', 'text'],
    ['CSI broken by a control char', 'a\x1b[12\x00b', `a${R}b`],
  ])('removes %s', (_name, input, expected) => {
    expect(sanitizeMessage(input)).toBe(expected);
  });

  it('keeps the text after an OSC that never ends', () => {
    expect(sanitizeMessage('a\x1b]0;title without end')).toBe('a0;title without end');
  });

  it('keeps the text after each of many string sequences that never end (found by the fuzzer)', () => {
    // Each unterminated ESC X searched to the end of the line again: 64 KB of them took 14 s
    // (test/fixtures/fuzz/transform-chain.json holds the time-bound cases).
    expect(sanitizeMessage('a\x1bXb\x1b]c\x1b_d')).toBe('abcd');
    expect(sanitizeMessage(`${'\x1bX'.repeat(2000)}tail`)).toBe('tail');
    expect(sanitizeMessage('\x1bXa\x1b]b\x07c')).toBe('c');
  });

  it('replaces NUL and other C0 controls by U+FFFD, one per run', () => {
    expect(sanitizeMessage('foo\x00bar')).toBe(`foo${R}bar`);
    expect(sanitizeMessage('pad\x00\x00\x00\x00end')).toBe(`pad${R}end`);
    expect(sanitizeMessage('bell\x07 back\x08 vt\x0b ff\x0c')).toBe(`bell${R} back${R} vt${R} ff${R}`);
    expect(sanitizeMessage('\x01\x02start')).toBe(`${R}start`);
  });

  it('keeps TAB, LF, DEL and C1 characters', () => {
    expect(sanitizeMessage('a\tb\nc\x00')).toBe(`a\tb\nc${R}`);
    expect(sanitizeMessage('del\x7f c1\u0085')).toBe('del\x7f c1\u0085');
  });

  it('strips a trailing CR, also one hidden behind escape sequences', () => {
    expect(sanitizeMessage('windows line\r')).toBe('windows line');
    expect(sanitizeMessage('twice\r\r')).toBe('twice');
    expect(sanitizeMessage('coloured\r\x1b[0m')).toBe('coloured');
    expect(sanitizeMessage('\r')).toBe('');
  });

  it('drops the CR of CRLF inside a multiline event, and marks a lone CR', () => {
    expect(sanitizeMessage('one\r\ntwo\r\n')).toBe('one\ntwo\n');
    expect(sanitizeMessage('10%\r20%\r30%')).toBe(`10%${R}20%${R}30%`);
    expect(sanitizeMessage('a\x00\rb')).toBe(`a${R}b`);
  });

  it('does not glue words together', () => {
    expect(sanitizeMessage('user\x00admin').split(R)).toEqual(['user', 'admin']);
  });
});
