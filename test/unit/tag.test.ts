import { describe, expect, it } from 'vitest';
import type { ContainerInfo } from '../../src/core/event.js';
import {
  compileTagTemplate,
  DOCKER_DEFAULT_TAG,
  resolveTag,
  TAG_LABEL,
  TagTemplateError,
  tagFor,
} from '../../src/transforms/tag.js';

const ID = '4f2c9a1b7e3d5c8a0b6e2d4f1a3c5e7b9d0f2a4c6e8b0d2f4a6c8e0b2d4f6a8c';

function container(over: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: ID,
    name: 'demo-web-1',
    imageName: 'nginx:1.25',
    labels: {},
    composeProject: 'demo',
    composeService: 'web',
    tty: false,
    ...over,
  };
}

const render = (template: string, c = container()) => compileTagTemplate(template)(c);

describe('compileTagTemplate: fields', () => {
  it.each([
    ['{{.ID}}', '4f2c9a1b7e3d'],
    ['{{.FullID}}', ID],
    ['{{.Name}}', 'demo-web-1'],
    ['{{.ImageName}}', 'nginx:1.25'],
    ['{{.DaemonName}}', 'docker'],
    ['{{.Service}}', 'web'],
    ['{{.Project}}', 'demo'],
    // not known to logwharf: empty, as documented, instead of refusing a template Docker accepts
    ['{{.ImageID}}', ''],
    ['{{.ImageFullID}}', ''],
    ['{{.Command}}', ''],
  ])('%s -> %s', (template, expected) => {
    expect(render(template)).toBe(expected);
  });

  it("drops the leading '/' Docker keeps in names", () => {
    expect(render('{{.Name}}', container({ name: '/demo-web-1' }))).toBe('demo-web-1');
  });

  it('keeps literal text around and between fields', () => {
    expect(render('app/{{.Name}}')).toBe('app/demo-web-1');
    expect(render('{{.ImageName}}/{{.Name}}/{{.ID}}')).toBe('nginx:1.25/demo-web-1/4f2c9a1b7e3d');
    expect(render('{{.Project}}_{{.Service}}[x]')).toBe('demo_web[x]');
    expect(render('plain')).toBe('plain');
    expect(render('a } b }} c')).toBe('a } b }} c'); // a stray closing brace is text, as in Go
  });

  it('allows blanks inside the braces', () => {
    expect(render('{{ .Name }}')).toBe('demo-web-1');
    expect(render('{{\t.ID\n}}')).toBe('4f2c9a1b7e3d');
  });

  it("honours Go's trim markers", () => {
    expect(render('a  {{- .Service -}}  b')).toBe('awebb');
    expect(render('a  {{- .Service }}  b')).toBe('aweb  b');
    expect(render('a  {{ .Service -}}  b')).toBe('a  webb');
  });

  it("uses Docker's default, {{.ID}}, for the empty template", () => {
    expect(DOCKER_DEFAULT_TAG).toBe('{{.ID}}');
    expect(render('')).toBe('4f2c9a1b7e3d');
  });

  it('renders compose fields from the labels, else empty, outside a compose project', () => {
    const labelled = container({
      composeProject: undefined,
      composeService: undefined,
      labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 's' },
    });
    expect(render('{{.Project}}/{{.Service}}', labelled)).toBe('p/s');
    const bare = container({ composeProject: undefined, composeService: undefined });
    expect(render('{{.Project}}/{{.Service}}/{{.Name}}', bare)).toBe('//demo-web-1');
  });

  it('keeps a long tag as written (the syslog forwarder truncates APP-NAME)', () => {
    const long = 'x'.repeat(60);
    expect(render(`${long}-{{.Name}}`)).toBe(`${long}-demo-web-1`);
  });
});

describe('compileTagTemplate: errors', () => {
  const error = (template: string): TagTemplateError => {
    try {
      compileTagTemplate(template);
    } catch (err) {
      expect(err).toBeInstanceOf(TagTemplateError);
      return err as TagTemplateError;
    }
    throw new Error(`no error for ${template}`);
  };

  it('names an unknown field and suggests the near one', () => {
    const e = error('app/{{.Nmae}}');
    expect(e.message).toContain("tag template 'app/{{.Nmae}}'");
    expect(e.message).toContain('unknown field .Nmae (did you mean .Name?)');
    expect(e.message).toContain('.ID, .FullID, .Name');
    expect(e.code).toBe('LOGWHARF_ERR_CONFIG');
    expect(e.template).toBe('app/{{.Nmae}}');
    expect(error('{{.name}}').message).toContain('did you mean .Name?');
    expect(error('{{.Labels}}').message).not.toContain('did you mean');
  });

  it('reports unclosed braces with their column', () => {
    expect(error('app/{{.Name').message).toContain("'{{' at column 5 is not closed by '}}'");
    expect(error('{{.Name}}/{{').message).toContain('column 11');
  });

  it('refuses empty actions, functions and pipelines', () => {
    expect(error('{{}}').message).toContain('is empty');
    expect(error('{{ }}').message).toContain('is empty');
    expect(error('{{Name}}').message).toContain("'{{Name}}' is not supported");
    expect(error('{{lower .Name}}').message).toContain('not supported');
    expect(error('{{.Name | printf "%s"}}').message).toContain('not supported');
    expect(error('{{index .ContainerLabels "a"}}').message).toContain('not supported');
    expect(error('{{-3}}').message).toContain('not supported');
  });
});

describe('tagFor and resolveTag', () => {
  it('uses the config default without a label, and nothing without either', () => {
    expect(tagFor(container(), 'app/{{.Name}}')).toBe('app/demo-web-1');
    expect(tagFor(container(), null)).toBeUndefined();
  });

  it('lets the logwharf.tag label win over the config default', () => {
    const c = container({ labels: { [TAG_LABEL]: '{{.Service}}-{{.ID}}' } });
    expect(tagFor(c, 'app/{{.Name}}')).toBe('web-4f2c9a1b7e3d');
    expect(tagFor(c, null)).toBe('web-4f2c9a1b7e3d');
  });

  it('ignores an empty label', () => {
    expect(tagFor(container({ labels: { [TAG_LABEL]: '' } }), '{{.Name}}')).toBe('demo-web-1');
  });

  it('falls back to the config default for a label that does not compile, and says why', () => {
    const c = container({ labels: { [TAG_LABEL]: '{{.Nope}}' } });
    expect(tagFor(c, '{{.Name}}')).toBe('demo-web-1');
    const r = resolveTag(c, '{{.Name}}');
    expect(r.tag).toBe('demo-web-1');
    expect(r.labelError).toBeInstanceOf(TagTemplateError);
    expect(r.labelError?.message).toContain('unknown field .Nope');
    expect(resolveTag(c, null)).toMatchObject({ tag: undefined, labelError: expect.any(TagTemplateError) });
    expect(resolveTag(container(), '{{.Name}}')).toEqual({ tag: 'demo-web-1' });
  });

  it('throws for a config default that does not compile (validated at start-up)', () => {
    expect(() => tagFor(container(), '{{.Bad}}')).toThrow(TagTemplateError);
  });

  it('renders per container with a cached compiled template', () => {
    const a = container({ name: 'a' });
    const b = container({ name: 'b' });
    for (let i = 0; i < 3; i++) {
      expect(tagFor(a, 'x/{{.Name}}')).toBe('x/a');
      expect(tagFor(b, 'x/{{.Name}}')).toBe('x/b');
    }
  });
});
