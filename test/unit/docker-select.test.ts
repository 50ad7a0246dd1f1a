import { describe, expect, it } from 'vitest';
import { globMatch, selectContainer } from '../../src/sources/docker/select.js';

const compose = (project: string, service: string, extra: Record<string, string> = {}) => ({
  'com.docker.compose.project': project,
  'com.docker.compose.service': service,
  ...extra,
});
const none = { labels: [], services: [], containers: [] };

describe('which containers are followed', () => {
  it('follows every compose project when no project is set', () => {
    expect(
      selectContainer({ id: 'a', name: 'shop_web_1', labels: compose('shop', 'web') }, { project: null }),
    ).toEqual({
      follow: true,
    });
  });

  it('skips containers outside compose unless they opt in with logwharf.enable=true', () => {
    expect(selectContainer({ id: 'a', name: 'loose', labels: {} }, { project: null }).follow).toBe(false);
    expect(
      selectContainer({ id: 'a', name: 'loose', labels: { 'logwharf.enable': 'true' } }, { project: 'x' })
        .follow,
    ).toBe(true);
  });

  it('follows only the named project when one is set', () => {
    const sel = { project: 'shop' };
    expect(selectContainer({ id: 'a', name: 'n', labels: compose('shop', 'web') }, sel).follow).toBe(true);
    expect(selectContainer({ id: 'b', name: 'n', labels: compose('blog', 'web') }, sel)).toEqual({
      follow: false,
      reason: 'not in compose project shop',
    });
  });

  it('never follows a container labelled logwharf.enable=false, nor itself', () => {
    const labels = compose('shop', 'web', { 'logwharf.enable': 'false' });
    expect(selectContainer({ id: 'a', name: 'n', labels }, { project: null }).follow).toBe(false);
    expect(
      selectContainer(
        { id: 'abc123', name: 'n', labels: compose('shop', 'lw') },
        { project: null, selfId: 'abc123' },
      ),
    ).toEqual({ follow: false, reason: 'self' });
  });

  it('applies include lists by service, container name and label globs', () => {
    const c = { id: 'a', name: 'shop_web_1', labels: compose('shop', 'web', { tier: 'frontend' }) };
    expect(selectContainer(c, { project: null, include: { ...none, services: ['api'] } }).follow).toBe(false);
    expect(selectContainer(c, { project: null, include: { ...none, services: ['w*'] } }).follow).toBe(true);
    expect(selectContainer(c, { project: null, include: { ...none, containers: ['shop_*_1'] } }).follow).toBe(
      true,
    );
    expect(selectContainer(c, { project: null, include: { ...none, labels: ['tier=front*'] } }).follow).toBe(
      true,
    );
    expect(selectContainer(c, { project: null, include: { ...none, labels: ['tier=back*'] } }).follow).toBe(
      false,
    );
    expect(selectContainer(c, { project: null, include: { ...none, labels: ['tier'] } }).follow).toBe(true);
    expect(selectContainer(c, { project: null, include: none }).follow).toBe(true);
  });

  it('lets exclude lists win over include lists', () => {
    const c = { id: 'a', name: 'shop_web_1', labels: compose('shop', 'web') };
    const sel = {
      project: null,
      include: { ...none, services: ['*'] },
      exclude: { ...none, containers: ['*_web_*'] },
    };
    expect(selectContainer(c, sel)).toEqual({ follow: false, reason: 'excluded by sources.docker.exclude' });
  });
});

describe('globMatch', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything', true],
    ['web', 'web', true],
    ['web', 'web2', false],
    ['w?b', 'wab', true],
    ['w?b', 'wb', false],
    ['*_web_*', 'shop_web_1', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['**a', 'bba', true],
    ['a.b', 'aXb', false],
  ])('%s matches %s: %s', (glob, text, expected) => {
    expect(globMatch(glob, text)).toBe(expected);
  });

  it('stays linear on pathological patterns', () => {
    const text = 'a'.repeat(5000);
    expect(globMatch(`${'*a'.repeat(50)}b`, text)).toBe(false);
  });
});
