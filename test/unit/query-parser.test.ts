import { describe, expect, it } from 'vitest';
import { type FieldOp, type QueryNode, QuerySyntaxError } from '../../src/query/ast.js';
import { MAX_NESTING_DEPTH, MAX_QUERY_LENGTH, parseQuery } from '../../src/query/parser.js';

const all: QueryNode = { type: 'all' };
const word = (value: string): QueryNode => ({ type: 'text', value, phrase: false, prefix: false });
const wordPrefix = (value: string): QueryNode => ({ type: 'text', value, phrase: false, prefix: true });
const phrase = (value: string): QueryNode => ({ type: 'text', value, phrase: true, prefix: false });
const field = (name: string, op: FieldOp, value: string): QueryNode => ({
  type: 'field',
  field: name,
  op,
  value,
});
const severity = (op: 'eq' | 'lt' | 'lte' | 'gt' | 'gte', code: number): QueryNode => ({
  type: 'severity',
  op,
  code,
});
const and = (...children: QueryNode[]): QueryNode => ({ type: 'and', children });
const or = (...children: QueryNode[]): QueryNode => ({ type: 'or', children });
const not = (child: QueryNode): QueryNode => ({ type: 'not', child });

/** The error a query raises, so tests can state its message and position side by side. */
function syntaxError(query: string): { message: string; position: number } {
  try {
    parseQuery(query);
  } catch (err) {
    if (err instanceof QuerySyntaxError) return { message: err.message, position: err.position };
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(query)} not to parse`);
}

describe('parseQuery: the empty query', () => {
  it.each(['', ' ', '   ', '\t\n', '\u00a0'])('matches everything for %j', (query) => {
    expect(parseQuery(query)).toEqual(all);
  });

  it('reads a lone * as match-everything, as Kibana does', () => {
    expect(parseQuery('*')).toEqual(all);
    expect(parseQuery('**')).toEqual(all);
  });

  it('drops * from an AND and lets it absorb an OR', () => {
    expect(parseQuery('* error')).toEqual(word('error'));
    expect(parseQuery('* OR error')).toEqual(all);
    expect(parseQuery('NOT *')).toEqual(not(all));
  });
});

describe('parseQuery: words and phrases match the message', () => {
  it('reads a bare word as a text term', () => {
    expect(parseQuery('healthcheck')).toEqual(word('healthcheck'));
  });

  it('keeps the case of a word as typed (matching is case-insensitive downstream)', () => {
    expect(parseQuery('Timeout')).toEqual(word('Timeout'));
  });

  it('reads a trailing * on a bare word as a prefix', () => {
    expect(parseQuery('conn*')).toEqual(wordPrefix('conn'));
  });

  it('keeps a * inside a word literally', () => {
    expect(parseQuery('a*b')).toEqual(word('a*b'));
  });

  it('keeps hyphens, dots, slashes and = inside words', () => {
    expect(parseQuery('demo-web')).toEqual(word('demo-web'));
    expect(parseQuery('/api/v1/health')).toEqual(word('/api/v1/health'));
    expect(parseQuery('status=500')).toEqual(word('status=500'));
    expect(parseQuery('1.2.3')).toEqual(word('1.2.3'));
  });

  it('reads unicode words', () => {
    expect(parseQuery('größe 日本語 🙂 Ошибка')).toEqual(
      and(word('größe'), word('日本語'), word('🙂'), word('Ошибка')),
    );
  });

  it('splits words on any whitespace, including a no-break space', () => {
    expect(parseQuery('a\tb\nc\u00a0d')).toEqual(and(word('a'), word('b'), word('c'), word('d')));
  });

  it('reads a quoted phrase as one phrase term', () => {
    expect(parseQuery('"connection refused"')).toEqual(phrase('connection refused'));
  });

  it('unescapes \\" and \\\\ inside quotes', () => {
    expect(parseQuery(String.raw`"say \"hi\""`)).toEqual(phrase('say "hi"'));
    expect(parseQuery(String.raw`"C:\\temp"`)).toEqual(phrase(String.raw`C:\temp`));
  });

  it('keeps any other backslash literally, so pasted Windows paths work', () => {
    expect(parseQuery(String.raw`"C:\Users\x"`)).toEqual(phrase(String.raw`C:\Users\x`));
  });

  it('keeps *, keywords and parentheses literal inside quotes', () => {
    expect(parseQuery('"conn*"')).toEqual(phrase('conn*'));
    expect(parseQuery('"a AND (b OR c)"')).toEqual(phrase('a AND (b OR c)'));
    expect(parseQuery('"service:web"')).toEqual(phrase('service:web'));
  });

  it('ends a word at a quote', () => {
    expect(parseQuery('abc"d e"')).toEqual(and(word('abc'), phrase('d e')));
  });

  it('treats lowercase and/or/not as plain words', () => {
    expect(parseQuery('and or not')).toEqual(and(word('and'), word('or'), word('not')));
  });

  it('treats words that merely start with a keyword as words', () => {
    expect(parseQuery('ANDROID ORACLE NOTICE')).toEqual(and(word('ANDROID'), word('ORACLE'), word('NOTICE')));
  });

  it('finds a keyword as text when it is quoted', () => {
    expect(parseQuery('"AND"')).toEqual(phrase('AND'));
  });

  it('reads a URL as a word, not as a field named after its scheme', () => {
    expect(parseQuery('http://api:8080/health')).toEqual(word('http://api:8080/health'));
  });

  it('reads clock times and user@host as words, not fields', () => {
    expect(parseQuery('12:30:00')).toEqual(word('12:30:00'));
    expect(parseQuery('user@host:22')).toEqual(word('user@host:22'));
    expect(parseQuery(':x')).toEqual(word(':x'));
  });
});

describe('parseQuery: fields', () => {
  it.each([
    ['service', 'service.name'],
    ['project', 'compose.project'],
    ['container', 'container.name'],
    ['image', 'container.image.name'],
    ['stream', 'stream'],
    ['host', 'host.name'],
    ['app', 'log.syslog.appname'],
    ['status', 'http.response.status_code'],
    ['method', 'http.request.method'],
  ])('maps the short name %s to %s', (short, full) => {
    expect(parseQuery(`${short}:x`)).toEqual(field(full, 'eq', 'x'));
  });

  it('matches short names case-insensitively', () => {
    expect(parseQuery('Service:web')).toEqual(field('service.name', 'eq', 'web'));
  });

  it.each([
    'message',
    'fields.status',
    'service.name',
    'container.labels.com.docker.compose.service',
    'container.labels.com.docker.compose.config-hash',
    'fields.request_id',
    'fields.@version',
    '@timestamp',
    'log.syslog.severity.code',
    'fields.größe',
    'http.response.status_code',
    'url.original',
    'user_agent.original',
    'log.source.address',
    'ecs.version',
  ])('passes the full path %s through', (path) => {
    expect(parseQuery(`${path}:v`)).toEqual(field(path, 'eq', 'v'));
  });

  it('reads field:value as an exact match, keeping the value as typed', () => {
    expect(parseQuery('container:demo_web_1')).toEqual(field('container.name', 'eq', 'demo_web_1'));
    expect(parseQuery('image:nginx:1.27')).toEqual(field('container.image.name', 'eq', 'nginx:1.27'));
  });

  it('reads field:"quoted value" with escapes', () => {
    expect(parseQuery('fields.msg:"a b"')).toEqual(field('fields.msg', 'eq', 'a b'));
    expect(parseQuery(String.raw`fields.msg:"a \"b\""`)).toEqual(field('fields.msg', 'eq', 'a "b"'));
  });

  it('allows an empty quoted value, to match a field that is the empty string', () => {
    expect(parseQuery('fields.user:""')).toEqual(field('fields.user', 'eq', ''));
  });

  it('reads field:val* as a prefix match', () => {
    expect(parseQuery('fields.status:5*')).toEqual(field('fields.status', 'prefix', '5'));
  });

  it('reads field:* as a prefix match on the empty string (the field has any value)', () => {
    expect(parseQuery('service:*')).toEqual(field('service.name', 'prefix', ''));
  });

  it('keeps a * in a quoted value literally', () => {
    expect(parseQuery('fields.path:"/a/*"')).toEqual(field('fields.path', 'eq', '/a/*'));
  });

  it.each([
    ['fields.ms>=100', 'gte'],
    ['fields.ms>100', 'gt'],
    ['fields.ms<=100', 'lte'],
    ['fields.ms<100', 'lt'],
    ['fields.ms:>=100', 'gte'],
    ['fields.ms:>100', 'gt'],
    ['fields.ms:<=100', 'lte'],
    ['fields.ms:<100', 'lt'],
  ] as const)('reads %s as a %s comparison', (query, op) => {
    expect(parseQuery(query)).toEqual(field('fields.ms', op, '100'));
  });

  it('takes a quoted value after a comparison', () => {
    expect(parseQuery('fields.name>="m n"')).toEqual(field('fields.name', 'gte', 'm n'));
  });

  it('puts @timestamp values into the canonical form, so they compare as time', () => {
    expect(parseQuery('@timestamp>=2024-05-01T14:00:00+02:00')).toEqual(
      field('@timestamp', 'gte', '2024-05-01T12:00:00.000000000Z'),
    );
    expect(parseQuery('event.ingested<2024-05-01T12:00:00.5Z')).toEqual(
      field('event.ingested', 'lt', '2024-05-01T12:00:00.500000000Z'),
    );
    expect(parseQuery('sender_timestamp<2000-01-01T00:00:00Z')).toEqual(
      field('sender_timestamp', 'lt', '2000-01-01T00:00:00.000000000Z'),
    );
  });

  it('keeps a @timestamp value that is not a full timestamp as typed', () => {
    expect(parseQuery('@timestamp>=2024-05-01')).toEqual(field('@timestamp', 'gte', '2024-05-01'));
  });

  it('ends an unquoted value at whitespace or a parenthesis', () => {
    expect(parseQuery('(service:web)')).toEqual(field('service.name', 'eq', 'web'));
  });

  it('does not treat keywords after a colon as keywords', () => {
    expect(parseQuery('fields.x:OR')).toEqual(field('fields.x', 'eq', 'OR'));
  });
});

describe('parseQuery: level compares by severity', () => {
  it.each([
    ['emerg', 0],
    ['alert', 1],
    ['crit', 2],
    ['err', 3],
    ['warning', 4],
    ['notice', 5],
    ['info', 6],
    ['debug', 7],
  ])('reads level:%s as code %d', (name, code) => {
    expect(parseQuery(`level:${name}`)).toEqual(severity('eq', code));
  });

  it.each([
    ['error', 3],
    ['warn', 4],
    ['fatal', 2],
    ['critical', 2],
    ['information', 6],
    ['emergency', 0],
    ['panic', 2],
    ['dpanic', 2],
    ['trace', 7],
  ])('accepts the alias %s for code %d', (alias, code) => {
    expect(parseQuery(`level:${alias}`)).toEqual(severity('eq', code));
  });

  it.each(['0', '1', '2', '3', '4', '5', '6', '7'])('accepts the numeric code %s', (digit) => {
    expect(parseQuery(`level:${digit}`)).toEqual(severity('eq', Number(digit)));
  });

  it('matches level words case-insensitively and accepts quotes', () => {
    expect(parseQuery('level:ERROR')).toEqual(severity('eq', 3));
    expect(parseQuery('level:"Warn"')).toEqual(severity('eq', 4));
  });

  it('treats log.level like level', () => {
    expect(parseQuery('log.level>=err')).toEqual(severity('lte', 3));
  });

  it('turns comparisons around, because worse severities have lower codes', () => {
    expect(parseQuery('level>=warning')).toEqual(severity('lte', 4));
    expect(parseQuery('level>warning')).toEqual(severity('lt', 4));
    expect(parseQuery('level<=warning')).toEqual(severity('gte', 4));
    expect(parseQuery('level<warning')).toEqual(severity('gt', 4));
    expect(parseQuery('level:>=warn')).toEqual(severity('lte', 4));
  });

  it('compares numeric codes by severity too: level>=3 is err or worse', () => {
    expect(parseQuery('level>=3')).toEqual(severity('lte', 3));
  });

  it('rejects an unknown level word, pointing at the value', () => {
    const err = syntaxError('service:web level:loud');
    expect(err.position).toBe(18);
    expect(err.message).toContain("unknown level 'loud'");
  });

  it('rejects a level code outside 0..7', () => {
    expect(syntaxError('level:8').position).toBe(6);
    expect(syntaxError('level>=07').position).toBe(7);
  });

  it('rejects a prefix on level', () => {
    const err = syntaxError('level:war*');
    expect(err.position).toBe(6);
    expect(err.message).toContain("level does not take a '*' prefix");
  });
});

describe('parseQuery: operators and precedence', () => {
  it('joins terms separated by whitespace with an implicit AND', () => {
    expect(parseQuery('a b c')).toEqual(and(word('a'), word('b'), word('c')));
  });

  it('reads explicit AND the same as whitespace', () => {
    expect(parseQuery('a AND b')).toEqual(and(word('a'), word('b')));
    expect(parseQuery('a AND b c')).toEqual(and(word('a'), word('b'), word('c')));
  });

  it('reads OR', () => {
    expect(parseQuery('a OR b OR c')).toEqual(or(word('a'), word('b'), word('c')));
  });

  it('binds AND (explicit or implicit) tighter than OR', () => {
    expect(parseQuery('a OR b c')).toEqual(or(word('a'), and(word('b'), word('c'))));
    expect(parseQuery('a b OR c')).toEqual(or(and(word('a'), word('b')), word('c')));
    expect(parseQuery('a AND b OR c AND d')).toEqual(
      or(and(word('a'), word('b')), and(word('c'), word('d'))),
    );
  });

  it('binds NOT tighter than AND and OR', () => {
    expect(parseQuery('NOT a b')).toEqual(and(not(word('a')), word('b')));
    expect(parseQuery('NOT a OR b')).toEqual(or(not(word('a')), word('b')));
    expect(parseQuery('a AND NOT b')).toEqual(and(word('a'), not(word('b'))));
  });

  it('reads a leading - as NOT', () => {
    expect(parseQuery('-healthcheck')).toEqual(not(word('healthcheck')));
    expect(parseQuery('error -healthcheck')).toEqual(and(word('error'), not(word('healthcheck'))));
    expect(parseQuery('-service:web')).toEqual(not(field('service.name', 'eq', 'web')));
    expect(parseQuery('-"connection refused"')).toEqual(not(phrase('connection refused')));
    expect(parseQuery('-(a OR b)')).toEqual(not(or(word('a'), word('b'))));
    expect(parseQuery('-conn*')).toEqual(not(wordPrefix('conn')));
  });

  it('negates after a closing parenthesis or quote too', () => {
    expect(parseQuery('(a)-b')).toEqual(and(word('a'), not(word('b'))));
  });

  it('cancels double negation', () => {
    expect(parseQuery('NOT NOT a')).toEqual(word('a'));
    expect(parseQuery('--a')).toEqual(word('a'));
    expect(parseQuery('NOT -a')).toEqual(word('a'));
    expect(parseQuery('NOT NOT NOT a')).toEqual(not(word('a')));
  });

  it('groups with parentheses', () => {
    expect(parseQuery('(a OR b) c')).toEqual(and(or(word('a'), word('b')), word('c')));
    expect(parseQuery('a (b OR c)')).toEqual(and(word('a'), or(word('b'), word('c'))));
    expect(parseQuery('NOT (a b)')).toEqual(not(and(word('a'), word('b'))));
  });

  it('needs no spaces around parentheses', () => {
    expect(parseQuery('(a)OR(b)')).toEqual(or(word('a'), word('b')));
    expect(parseQuery('NOT(a)')).toEqual(not(word('a')));
  });

  it('flattens nested groups of the same kind', () => {
    expect(parseQuery('a (b c) (d (e f))')).toEqual(
      and(word('a'), word('b'), word('c'), word('d'), word('e'), word('f')),
    );
    expect(parseQuery('(a OR (b OR c)) OR d')).toEqual(or(word('a'), word('b'), word('c'), word('d')));
  });

  it('collapses a group of one term', () => {
    expect(parseQuery('((((a))))')).toEqual(word('a'));
  });

  it('allows spaces around : and comparison operators, as DESIGN.md and KQL do', () => {
    expect(parseQuery('status >= 500')).toEqual(field('http.response.status_code', 'gte', '500'));
    expect(parseQuery('service: web')).toEqual(field('service.name', 'eq', 'web'));
    expect(parseQuery('service : web')).toEqual(field('service.name', 'eq', 'web'));
    expect(parseQuery('service :web')).toEqual(field('service.name', 'eq', 'web'));
    expect(parseQuery('level >= warning')).toEqual(severity('lte', 4));
    expect(parseQuery('fields.ms <\t100 a')).toEqual(and(field('fields.ms', 'lt', '100'), word('a')));
    expect(parseQuery('-status >= 500')).toEqual(not(field('http.response.status_code', 'gte', '500')));
    expect(parseQuery('(service: web)')).toEqual(field('service.name', 'eq', 'web'));
    expect(parseQuery('service: "a b"')).toEqual(field('service.name', 'eq', 'a b'));
  });

  it('keeps keywords, words that are not field paths, and URLs out of spaced field syntax', () => {
    expect(parseQuery('a AND :x')).toEqual(and(word('a'), word(':x')));
    expect(parseQuery('12 : 30')).toEqual(and(word('12'), word(':'), word('30')));
    expect(parseQuery('see http://x')).toEqual(and(word('see'), word('http://x')));
    expect(parseQuery('go ://x')).toEqual(and(word('go'), word('://x')));
  });

  it('parses the examples of DESIGN.md', () => {
    expect(parseQuery('service:web level>=warning "connection refused" -healthcheck')).toEqual(
      and(
        field('service.name', 'eq', 'web'),
        severity('lte', 4),
        phrase('connection refused'),
        not(word('healthcheck')),
      ),
    );
    expect(parseQuery('(container:demo_web_1 OR container:demo_web_2) AND fields.status:5*')).toEqual(
      and(
        or(field('container.name', 'eq', 'demo_web_1'), field('container.name', 'eq', 'demo_web_2')),
        field('fields.status', 'prefix', '5'),
      ),
    );
    expect(parseQuery('status >= 500')).toEqual(field('http.response.status_code', 'gte', '500'));
  });

  it(`accepts ${MAX_NESTING_DEPTH} levels of parentheses`, () => {
    const query = '('.repeat(MAX_NESTING_DEPTH) + 'a' + ')'.repeat(MAX_NESTING_DEPTH);
    expect(parseQuery(query)).toEqual(word('a'));
  });

  it('handles a long chain of NOTs without recursion', () => {
    expect(parseQuery(`${'NOT '.repeat(2000)}a`)).toEqual(word('a'));
  });
});

describe('parseQuery: errors name the problem and its position', () => {
  it.each([
    // query, message, position
    ['"abc', 'unterminated quote', 0],
    ['a "b c', 'unterminated quote', 2],
    [String.raw`"abc\"`, 'unterminated quote', 0],
    ['service:"web', 'unterminated quote', 8],
    ['(a', "expected ')'", 2],
    ['(a OR (b c)', "expected ')'", 11],
    ['a (', "expected ')'", 3],
    ['a)', "unexpected ')'", 1],
    [')', "unexpected ')'", 0],
    ['(a))', "unexpected ')'", 3],
    ['()', 'empty parentheses', 0],
    ['a ( )', 'empty parentheses', 2],
    ['""', 'empty quotes', 0],
    ['a "  "', 'empty quotes', 2],
    ['a OR', 'OR needs a term on both sides', 2],
    ['OR a', 'OR needs a term on both sides', 0],
    ['a OR OR b', 'OR needs a term on both sides', 2],
    ['(a OR) b', 'OR needs a term on both sides', 3],
    ['a AND', 'AND needs a term on both sides', 2],
    ['AND a', 'AND needs a term on both sides', 0],
    ['a AND OR b', 'AND needs a term on both sides', 2],
    ['a AND AND b', 'AND needs a term on both sides', 2],
    ['NOT', 'NOT needs a term after it', 0],
    ['a NOT', 'NOT needs a term after it', 2],
    ['NOT OR a', 'NOT needs a term after it', 0],
    ['(NOT)', 'NOT needs a term after it', 1],
    ['-', "'-' needs a term right after it, with no space", 0],
    ['a - b', "'-' needs a term right after it, with no space", 2],
    ['a -', "'-' needs a term right after it, with no space", 2],
    ['service:', "missing value after 'service:'", 8],
    ['service: ', "missing value after 'service:'", 9],
    ['status >= )', "missing value after 'status>='", 10],
    ['(service:)', "missing value after 'service:'", 9],
    ['fields.ms>=', "missing value after 'fields.ms>='", 11],
    ['fields.ms:<', "missing value after 'fields.ms:<'", 11],
    [
      'service:(a OR b)',
      "missing value after 'service:': to match several values, write (service:a OR service:b)",
      8,
    ],
    ['fields.ms>=10*', "'*' (prefix) works with ':' only, not with '>='", 13],
    ['"conn"*', "'*' after a quote: prefix search works on bare words only, e.g. conn*", 6],
    ['service:"web"*', "'*' after a quote: prefix search works on bare words only, e.g. conn*", 13],
  ])('%j -> %s at %d', (query, message, position) => {
    expect(syntaxError(query)).toEqual({ message: `${message} at position ${position}`, position });
  });

  it('reports the first of several problems in reading order', () => {
    expect(syntaxError('a) "b')).toEqual({ message: "unexpected ')' at position 1", position: 1 });
    expect(syntaxError('a OR) b').position).toBe(2);
  });

  it(`refuses more than ${MAX_NESTING_DEPTH} levels of parentheses, at the first one too many`, () => {
    const query = '('.repeat(MAX_NESTING_DEPTH + 1) + 'a' + ')'.repeat(MAX_NESTING_DEPTH + 1);
    expect(syntaxError(query)).toEqual({
      message: `too deeply nested: at most ${MAX_NESTING_DEPTH} levels of parentheses at position ${MAX_NESTING_DEPTH}`,
      position: MAX_NESTING_DEPTH,
    });
  });

  it('refuses a pathologically deep query quickly and without a stack overflow', () => {
    expect(syntaxError('('.repeat(MAX_QUERY_LENGTH)).position).toBe(MAX_NESTING_DEPTH);
  });

  it(`refuses queries longer than ${MAX_QUERY_LENGTH} characters`, () => {
    expect(parseQuery('a'.repeat(MAX_QUERY_LENGTH))).toEqual(word('a'.repeat(MAX_QUERY_LENGTH)));
    expect(syntaxError('a'.repeat(MAX_QUERY_LENGTH + 1))).toEqual({
      message: `query is too long: ${MAX_QUERY_LENGTH + 1} characters, at most ${MAX_QUERY_LENGTH} are allowed at position ${MAX_QUERY_LENGTH}`,
      position: MAX_QUERY_LENGTH,
    });
  });

  it('counts positions in UTF-16 code units, like JavaScript string indices', () => {
    expect(syntaxError('🙂 "x').position).toBe(3);
  });

  it('throws a QuerySyntaxError with the position as a property', () => {
    expect(() => parseQuery('a OR')).toThrow(QuerySyntaxError);
  });
});
