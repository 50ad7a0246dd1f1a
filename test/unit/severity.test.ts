import { describe, expect, it } from 'vitest';
import { SEVERITY } from '../../src/core/event.js';
import {
  facilityFromPri,
  severityFromLevel,
  severityFromNumber,
  severityFromPri,
  severityFromWord,
} from '../../src/transforms/severity.js';

const { emerg, alert, crit, err, warning, notice, info, debug } = SEVERITY;

describe('severityFromWord', () => {
  it.each([
    ['emerg', emerg],
    ['emergency', emerg],
    ['alert', alert],
    ['crit', crit],
    ['critical', crit],
    ['fatal', crit],
    ['panic', crit],
    ['dpanic', crit],
    ['err', err],
    ['error', err],
    ['eror', err],
    ['severe', err],
    ['warn', warning],
    ['warning', warning],
    ['notice', notice],
    ['info', info],
    ['information', info],
    ['informational', info],
    ['debug', debug],
    ['trace', debug],
    ['verbose', debug],
    ['finest', debug],
  ])('%s -> %i', (word, code) => {
    expect(severityFromWord(word)).toBe(code);
  });

  it('ignores case', () => {
    for (const w of ['ERROR', 'Error', 'eRrOr']) expect(severityFromWord(w)).toBe(err);
    for (const w of ['WARNING', 'Warning', 'wArN']) expect(severityFromWord(w)).toBe(warning);
    expect(severityFromWord('Informational')).toBe(info);
  });

  it('knows logrus and Serilog abbreviations', () => {
    expect(severityFromWord('ERRO')).toBe(err);
    expect(severityFromWord('DEBU')).toBe(debug);
    expect(severityFromWord('FATA')).toBe(crit);
    expect(severityFromWord('WRN')).toBe(warning);
    expect(severityFromWord('INF')).toBe(info);
    expect(severityFromWord('VRB')).toBe(debug);
  });

  it('reads pino levels written as strings', () => {
    expect(['10', '20', '30', '40', '50', '60'].map(severityFromWord)).toEqual([
      debug,
      debug,
      info,
      warning,
      err,
      crit,
    ]);
  });

  it('returns undefined for anything else', () => {
    for (const w of ['', 'information-ish', 'errors', ' info', 'ok', '7', 'level', 'x'.repeat(100)]) {
      expect(severityFromWord(w)).toBeUndefined();
    }
  });
});

describe('severityFromNumber', () => {
  it('maps pino/bunyan levels', () => {
    expect([10, 20, 30, 40, 50, 60].map(severityFromNumber)).toEqual([
      debug,
      debug,
      info,
      warning,
      err,
      crit,
    ]);
  });

  it('maps pino custom levels by range', () => {
    expect(severityFromNumber(35)).toBe(info);
    expect(severityFromNumber(45)).toBe(warning);
    expect(severityFromNumber(100)).toBe(crit);
  });

  it('takes 0..7 as a syslog code', () => {
    for (let i = 0; i <= 7; i++) expect(severityFromNumber(i)).toBe(i);
  });

  it('rejects what is neither', () => {
    for (const n of [8, 9, -1, 3.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(severityFromNumber(n)).toBeUndefined();
  });
});

describe('severityFromLevel', () => {
  it('takes words and numbers, nothing else', () => {
    expect(severityFromLevel('warn')).toBe(warning);
    expect(severityFromLevel(50)).toBe(err);
    expect(severityFromLevel(null)).toBeUndefined();
    expect(severityFromLevel({ level: 'info' })).toBeUndefined();
    expect(severityFromLevel(true)).toBeUndefined();
  });
});

describe('severityFromPri and facilityFromPri', () => {
  it('split a PRI value into severity and facility', () => {
    expect(severityFromPri(0)).toBe(emerg);
    expect(facilityFromPri(0)).toBe(0);
    expect(severityFromPri(13)).toBe(notice); // user.notice
    expect(facilityFromPri(13)).toBe(1);
    expect(severityFromPri(30)).toBe(info); // daemon.info
    expect(facilityFromPri(30)).toBe(3);
    expect(severityFromPri(191)).toBe(debug); // local7.debug
    expect(facilityFromPri(191)).toBe(23);
  });

  it('reject values out of range', () => {
    for (const p of [-1, 192, 1000, 1.5]) {
      expect(severityFromPri(p)).toBeUndefined();
      expect(facilityFromPri(p)).toBeUndefined();
    }
  });
});
