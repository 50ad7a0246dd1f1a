/**
 * Docker's logging `tag` option, for containers: a Go text/template such as `app/{{.Name}}`
 * rendered once per container, stored as `log.syslog.appname` (what a syslogd shows as the TAG).
 *
 * The subset Docker's own tags use: literal text, and field actions `{{.Field}}` with blanks
 * allowed inside the braces (`{{ .Name }}`) and Go's trim markers (`{{- .Name -}}` eats the
 * blanks on that side). Functions, pipelines and `index` are not supported and are reported.
 *
 * Fields, as Docker renders them, plus two for compose:
 *   .ID            the first 12 characters of the container id      .FullID       the whole id
 *   .Name          the container name without its leading `/`
 *   .ImageName     the image as the container was created from it (`nginx:1.25`)
 *   .ImageID       (12 characters) and .ImageFullID, .Command: ContainerInfo does not carry
 *                  them, so they render empty rather than failing a template Docker accepts
 *   .DaemonName    `docker`
 *   .Service, .Project   the compose service and project, empty outside compose
 *
 * The tag is stored as written, even past RFC 5424's 48 printable characters for APP-NAME:
 * the syslog forwarder is the one place that must fit it, and truncates there.
 */

import { editDistance } from '../config/problems.js';
import { LogwharfError } from '../core/errors.js';
import type { ContainerInfo } from '../core/event.js';

/** The label on a container that overrides the configured template. */
export const TAG_LABEL = 'logwharf.tag';
/** What Docker uses when the tag option is not set or empty. */
export const DOCKER_DEFAULT_TAG = '{{.ID}}';

const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';

type Render = (c: ContainerInfo) => string;

const FIELDS: Readonly<Record<string, Render>> = {
  ID: (c) => c.id.slice(0, 12),
  FullID: (c) => c.id,
  Name: (c) => (c.name.charCodeAt(0) === 0x2f ? c.name.slice(1) : c.name),
  ImageName: (c) => c.imageName,
  ImageID: () => '',
  ImageFullID: () => '',
  Command: () => '',
  DaemonName: () => 'docker',
  Service: (c) => c.composeService ?? c.labels[COMPOSE_SERVICE_LABEL] ?? '',
  Project: (c) => c.composeProject ?? c.labels[COMPOSE_PROJECT_LABEL] ?? '',
};
const FIELD_LIST = Object.keys(FIELDS)
  .map((f) => `.${f}`)
  .join(', ');

/** A template that does not compile; the message names the template and what is wrong with it. */
export class TagTemplateError extends LogwharfError {
  readonly template: string;
  constructor(template: string, problem: string) {
    super('LOGWHARF_ERR_CONFIG', `tag template '${template}': ${problem}`);
    this.name = 'TagTemplateError';
    this.template = template;
  }
}

/**
 * Compiles a template into a renderer. Throws TagTemplateError for an unclosed `{{`, an empty
 * action, an unknown field or anything other than a field. The empty template is Docker's
 * default, `{{.ID}}`.
 */
export function compileTagTemplate(template: string): (c: ContainerInfo) => string {
  const parts = parse(template === '' ? DOCKER_DEFAULT_TAG : template, template);
  if (parts.length === 0) return () => '';
  if (parts.length === 1) {
    const only = parts[0]!;
    return typeof only === 'string' ? () => only : only;
  }
  return (c) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(c);
    return out;
  };
}

function parse(t: string, original: string): (string | Render)[] {
  const parts: (string | Render)[] = [];
  let lit = '';
  let trimNext = false;
  let i = 0;
  for (;;) {
    const open = t.indexOf('{{', i);
    let text = open < 0 ? t.slice(i) : t.slice(i, open);
    if (trimNext) text = text.trimStart();
    if (open < 0) {
      lit += text;
      break;
    }
    const close = t.indexOf('}}', open + 2);
    if (close < 0) {
      throw new TagTemplateError(original, `'{{' at column ${open + 1} is not closed by '}}'`);
    }
    let body = t.slice(open + 2, close);
    // Go's trim markers need a blank between the dash and the action: `{{- .X -}}`.
    if (/^-\s/.test(body)) {
      text = text.trimEnd();
      body = body.slice(1);
    }
    trimNext = /\s-$/.test(body);
    if (trimNext) body = body.slice(0, -1);
    lit += text;
    if (lit !== '') parts.push(lit);
    parts.push(field(body.trim(), original));
    lit = '';
    i = close + 2;
  }
  if (lit !== '') parts.push(lit);
  return parts;
}

function field(action: string, template: string): Render {
  if (action === '') throw new TagTemplateError(template, `'{{}}' is empty; write a field such as {{.Name}}`);
  const m = /^\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(action);
  if (m === null) {
    throw new TagTemplateError(
      template,
      `'{{${action}}}' is not supported: only fields such as {{.Name}} are (known: ${FIELD_LIST})`,
    );
  }
  const name = m[1]!;
  const render = FIELDS[name];
  if (render !== undefined) return render;
  const near = Object.keys(FIELDS).find(
    (f) => f.toLowerCase() === name.toLowerCase() || editDistance(f, name) <= 2,
  );
  throw new TagTemplateError(
    template,
    `unknown field .${name}${near ? ` (did you mean .${near}?)` : ''}; known: ${FIELD_LIST}`,
  );
}

// ---- per container ----------------------------------------------------------------------------

/** Compiled templates (or why they do not compile), per template string. */
const cache = new Map<string, Render | TagTemplateError>();
/** Templates come from config and labels, so there are few; a bound keeps label churn from growing it. */
const CACHE_LIMIT = 1024;

function compiled(template: string): Render | TagTemplateError {
  let r = cache.get(template);
  if (r === undefined) {
    try {
      r = compileTagTemplate(template);
    } catch (err) {
      if (!(err instanceof TagTemplateError)) throw err;
      r = err;
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(template, r);
  }
  return r;
}

export interface TagResolution {
  /** The rendered tag; undefined when neither the label nor the config asks for one. */
  tag: string | undefined;
  /** Set when the container's `logwharf.tag` label does not compile (the config default was used). */
  labelError?: TagTemplateError;
}

/**
 * The tag of a container: its `logwharf.tag` label when set and not empty, else the configured
 * template (null: no tag). A label that does not compile falls back to the configured template
 * and says why in `labelError`, for the caller to log once: a typo in one container's labels must
 * not stop or mislabel its logs silently. The configured template was checked at start-up; if it
 * does not compile anyway, this throws its TagTemplateError.
 */
export function resolveTag(c: ContainerInfo, configDefault: string | null): TagResolution {
  const label = c.labels[TAG_LABEL];
  let labelError: TagTemplateError | undefined;
  if (label !== undefined && label !== '') {
    const r = compiled(label);
    if (typeof r === 'function') return { tag: r(c) };
    labelError = r;
  }
  let tag: string | undefined;
  if (configDefault !== null) {
    const r = compiled(configDefault);
    if (typeof r !== 'function') throw r;
    tag = r(c);
  }
  return labelError === undefined ? { tag } : { tag, labelError };
}

/** resolveTag without the label error: the tag, or undefined for none. */
export function tagFor(c: ContainerInfo, configDefault: string | null): string | undefined {
  return resolveTag(c, configDefault).tag;
}
