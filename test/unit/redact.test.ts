import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/core/event.js';
import {
  BUILTIN_REDACTIONS,
  compileRedactor,
  type RedactConfig,
  RedactConfigError,
  type Redactor,
} from '../../src/transforms/redact.js';
import { luhn } from '../../src/transforms/redact-cards.js';
import { keyKind } from '../../src/transforms/redact-pairs.js';
import { HINTS } from '../../src/transforms/redact-rules.js';

const all = compileRedactor({ builtin: true, rules: [] })!;
const only = (name: string): Redactor => compileRedactor({ builtin: [name], rules: [] })!;

/** Each case: input, expected output; the output must also be a fixed point (redacting twice changes nothing). */
function check(r: Redactor, cases: readonly (readonly [string, string])[]): void {
  for (const [input, expected] of cases) {
    expect(r.redactText(input), input).toBe(expected);
    expect(r.redactText(expected), `again: ${expected}`).toBe(expected);
  }
}

const B = '[REDACTED:bearer]';
const U = '[REDACTED:url_password]';
const P = '[REDACTED:password_pair]';
const A = '[REDACTED:aws_access_key]';
const C = '[REDACTED:card_number]';

describe('built-in: bearer', () => {
  it('replaces the token and keeps the word', () => {
    check(only('bearer'), [
      [
        'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
        `Authorization: Bearer ${B}`,
      ],
      ['authorization: bearer abc', `authorization: bearer ${B}`], // any token after Authorization
      ['{"headers":{"authorization":"Bearer abc"}}', `{"headers":{"authorization":"Bearer ${B}"}}`],
      ['map[Authorization:[Bearer xyz]]', `map[Authorization:[Bearer ${B}]]`],
      ['AUTHORIZATION=BEARER mF_9.B5f-4.1JqM', `AUTHORIZATION=BEARER ${B}`],
      ['retrying with bearer 9f8e7d6c5b4a, attempt 2', `retrying with bearer ${B}, attempt 2`],
      ['sent bearer abc123def.', `sent bearer ${B}.`], // the full stop is not the token's
      ['Bearer%20tok3n=="', `Bearer%20${B}"`], // URL-encoded blank, base64 padding
      ['bearer aaaaaaaaaaaaaaaaaaaaaaaaaaaa', `bearer ${B}`], // long enough to be a token
    ]);
  });

  it('leaves prose and challenges alone', () => {
    check(only('bearer'), [
      ['the bearer of bad news', 'the bearer of bad news'],
      ['missing bearer token.', 'missing bearer token.'],
      [
        'WWW-Authenticate: Bearer realm="api", error="invalid_token"',
        'WWW-Authenticate: Bearer realm="api", error="invalid_token"',
      ],
      ['Bearer', 'Bearer'],
      ['Bearers abc123', 'Bearers abc123'],
      ['cobearer abc123', 'cobearer abc123'],
    ]);
  });
});

describe('built-in: url_password', () => {
  it('replaces the password and keeps user and host', () => {
    check(only('url_password'), [
      [
        'postgres://app:s3cr3t@db:5432/app?sslmode=disable',
        `postgres://app:${U}@db:5432/app?sslmode=disable`,
      ],
      ['redis://:p@ss@cache:6379 ok', `redis://:${U}@cache:6379 ok`], // raw @ in the password
      ['amqp://guest:guest@rabbit/', `amqp://guest:${U}@rabbit/`],
      ['dsn="mysql://root:pw@tcp(db:3306)/x"', `dsn="mysql://root:${U}@tcp(db:3306)/x"`],
      ['{"url":"http:\\/\\/u:pw@h\\/x"}', `{"url":"http:\\/\\/u:${U}@h\\/x"}`], // JSON with escaped slashes
      ['a https://u:1@h b ftp://v:2@i', `a https://u:${U}@h b ftp://v:${U}@i`],
    ]);
  });

  it('leaves URLs without a password alone', () => {
    check(only('url_password'), [
      ['see https://example.com/a@b', 'see https://example.com/a@b'],
      ['https://user@host/', 'https://user@host/'],
      ['https://u:@host/', 'https://u:@host/'],
      ['https://host:8443/path', 'https://host:8443/path'],
      ['://u:p@h', '://u:p@h'], // no scheme
      ['mailto:bob@example.com', 'mailto:bob@example.com'],
    ]);
  });
});

describe('built-in: password_pair', () => {
  it('replaces the value in query strings and logfmt', () => {
    check(only('password_pair'), [
      ['GET /login?user=bob&password=hunter2&next=/ 200', `GET /login?user=bob&password=${P}&next=/ 200`],
      ['level=info msg="login" password="a b c" user=x', `level=info msg="login" password="${P}" user=x`],
      [
        'passwd=x pwd=y secret=z token=t api_key=k',
        `passwd=${P} pwd=${P} secret=${P} token=${P} api_key=${P}`,
      ],
      [
        'DB_PASSWORD=x client_secret=y access_token=z X-Api-Key=k apiKey=j',
        `DB_PASSWORD=${P} client_secret=${P} access_token=${P} X-Api-Key=${P} apiKey=${P}`,
      ],
      ['db_pass=x dbPass=y --pass=z', `db_pass=${P} dbPass=${P} --pass=${P}`],
      ['Cookie: sessiontoken=abc; theme=dark', `Cookie: sessiontoken=${P}; theme=dark`],
      ['SECRET_KEY = django-insecure-x', `SECRET_KEY = ${P}`],
    ]);
  });

  it('replaces the value in key: value, JSON and reprs, keeping them well-formed', () => {
    check(only('password_pair'), [
      ['password: hunter2, user: bob', `password: ${P}, user: bob`],
      ['{"user":"bob","password":"hu\\"nter2","n":1}', `{"user":"bob","password":"${P}","n":1}`],
      ['{"password" : "x"}', `{"password" : "${P}"}`],
      ['{"token": 12345, "n": 1}', `{"token": "${P}", "n": 1}`], // a bare JSON value: the marker is quoted
      ['token: 12345', `token: ${P}`],
      ["{'pwd': 'x1'}", `{'pwd': '${P}'}`],
      ['User(name=bob, password=secret)', `User(name=bob, password=${P})`],
      ['{"msg":"login password=\\"abc\\" ok"}', `{"msg":"login password=\\"${P}\\" ok"}`],
      ['{"log":"{\\"token\\":\\"abc\\"}"}', `{"log":"{\\"token\\":\\"${P}\\"}"}`],
      ['{"url":"/x?token=abc"}', `{"url":"/x?token=${P}"}`],
      ['X-Auth-Token: 1a2b3c', `X-Auth-Token: ${P}`],
      ['password = "x y" next', `password = "${P}" next`],
      ['password="unclosed and the rest', `password="${P}`], // a cut line: the rest may be the secret
    ]);
    const json = all.redactText('{"user":"bob","password":"x","secret":{"a":1},"tokens":5,"pin_token":1234}');
    expect(JSON.parse(json)).toEqual({ user: 'bob', password: P, secret: { a: 1 }, tokens: 5, pin_token: P });
  });

  it('leaves other keys, non-secrets and comparisons alone', () => {
    check(only('password_pair'), [
      [
        'bypass=1 compass=n tokens=5 max_tokens=100 token_count=3',
        'bypass=1 compass=n tokens=5 max_tokens=100 token_count=3',
      ],
      ['password_changed_at=2024-01-01 secret_name=db', 'password_changed_at=2024-01-01 secret_name=db'],
      ['PWD=/app OLDPWD=/', 'PWD=/app OLDPWD=/'], // the shell's working directory
      ['password=null token=true secret=false pwd=***', 'password=null token=true secret=false pwd=***'],
      ['password= token=', 'password= token='],
      ['if password == "x"', 'if password == "x"'],
      ['12:00:00 a=b c:d', '12:00:00 a=b c:d'],
      ['{"password":null,"token":""}', '{"password":null,"token":""}'],
    ]);
  });
});

describe('built-in: aws_access_key', () => {
  it('replaces access key ids and secret keys in pairs', () => {
    check(only('aws_access_key'), [
      ['key AKIAIOSFODNN7EXAMPLE used', `key ${A} used`],
      ['ASIAY34FZKBOKMUTVV7A,', `${A},`],
      ['aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', `aws_secret_access_key=${A}`],
      ['AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', `AWS_SECRET_ACCESS_KEY: ${A}`],
      ['{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}', `{"SecretAccessKey": "${A}"}`],
      ['id=AKIAIOSFODNN7EXAMPLE secret_access_key=abc', `id=${A} secret_access_key=${A}`],
    ]);
  });

  it('needs the whole word', () => {
    check(only('aws_access_key'), [
      ['XAKIAIOSFODNN7EXAMPLE', 'XAKIAIOSFODNN7EXAMPLE'],
      ['AKIAIOSFODNN7EXAMPLEX', 'AKIAIOSFODNN7EXAMPLEX'],
      ['AKIAIOSFODNN7EXAMPL', 'AKIAIOSFODNN7EXAMPL'],
      ['AKIAiosfodnn7example', 'AKIAiosfodnn7example'],
      ['ASIA PACIFIC', 'ASIA PACIFIC'],
      ['secret_name=x', 'secret_name=x'],
    ]);
  });
});

describe('built-in: card_number', () => {
  it('replaces numbers that pass the Luhn check, whatever the grouping', () => {
    check(only('card_number'), [
      ['card 4111 1111 1111 1111 ok', `card ${C} ok`],
      ['card 5500-0000-0000-0004.', `card ${C}.`],
      ['amex 378282246310005', `amex ${C}`],
      ['pan=4111111111111111&exp=12/30', `pan=${C}&exp=12/30`],
      ['{"pan":"6011111111111117"}', `{"pan":"${C}"}`],
      ['2024-05-01 4111111111111111 charged', `2024-05-01 ${C} charged`], // a date joined by the blank
      ['4111111111111111,5500000000000004', `${C},${C}`],
      ['4222222222222 (13 digits)', `${C} (13 digits)`],
    ]);
  });

  it('keeps order ids, timestamps, decimals and hex ids', () => {
    check(only('card_number'), [
      ['order 4111111111111112', 'order 4111111111111112'], // not Luhn
      ['order 5500-0000-0000-0005', 'order 5500-0000-0000-0005'],
      ['ts=1714564800000', 'ts=1714564800000'], // epoch ms: starts with 1
      ['ts=1714564800000000000', 'ts=1714564800000000000'], // epoch ns
      ['trace 0af7651916cd43dd8448eb211c80319c', 'trace 0af7651916cd43dd8448eb211c80319c'],
      ['x4111111111111111', 'x4111111111111111'],
      ['4111111111111111abc', '4111111111111111abc'],
      ['pi 3.4111111111111111 and 4111111111111111.5', 'pi 3.4111111111111111 and 4111111111111111.5'],
      ['411111111111', '411111111111'], // 12 digits
      ['41111111111111111111', '41111111111111111111'], // 20 digits
      ['2024-05-01 12:00:00.123456', '2024-05-01 12:00:00.123456'],
    ]);
  });

  it('finds a card at any offset and after any digits (the scan skips ahead 13 at a time)', () => {
    const r = only('card_number');
    for (let k = 0; k < 40; k++) {
      for (const filler of ['a', ' ', '1', '1 ', '-']) {
        const head = `${filler.repeat(k)}.`;
        expect(r.redactText(`${head} 4111111111111111 x`), `${k} x ${filler}`).toBe(`${head} ${C} x`);
        expect(r.redactText(`${head} 4111 1111 1111 1111`), `${k} x ${filler}`).toBe(`${head} ${C}`);
      }
    }
  });

  it('luhn', () => {
    expect(luhn('4111111111111111')).toBe(true);
    expect(luhn('4111 1111 1111 1111')).toBe(true);
    expect(luhn('79927398713')).toBe(true);
    expect(luhn('79927398710')).toBe(false);
    expect(luhn('4111111111111112')).toBe(false);
  });
});

describe('built-ins together', () => {
  it('redact several kinds in one line, leaving the rest searchable', () => {
    const line =
      'login user=bob password=hunter2 from postgres://app:pw@db/x with Authorization: Bearer abc.def card 4111111111111111 key AKIAIOSFODNN7EXAMPLE';
    expect(all.redactText(line)).toBe(
      `login user=bob password=${P} from postgres://app:${U}@db/x with Authorization: Bearer ${B} card ${C} key ${A}`,
    );
  });

  it('returns the same string when there is nothing to redact', () => {
    const s = '2024-05-01T12:00:00.123Z INFO GET /healthz 200 1.2ms request_id=abc-123';
    expect(all.redactText(s)).toBe(s);
    expect(all.redactText('')).toBe('');
  });

  it('counts replacements per rule', () => {
    const r = compileRedactor({ builtin: true, rules: [] })!;
    expect([...r.counters.keys()]).toEqual([...BUILTIN_REDACTIONS]);
    r.redactText('password=a token=b 4111111111111111');
    expect(r.counters.get('password_pair')).toBe(2);
    expect(r.counters.get('card_number')).toBe(1);
    expect(r.counters.get('bearer')).toBe(0);
  });

  it('runs only the listed built-ins, in the built-in order', () => {
    const r = compileRedactor({ builtin: ['card_number', 'bearer'], rules: [] })!;
    expect([...r.counters.keys()]).toEqual(['bearer', 'card_number']);
    expect(r.redactText('password=x 4111111111111111')).toBe(`password=x ${C}`);
  });
});

describe('user rules', () => {
  it('run after the built-ins, with the g flag, default marker and $ references', () => {
    const r = compileRedactor({
      builtin: ['password_pair'],
      rules: [
        { name: 'email', pattern: '[\\w.+-]+@[\\w-]+\\.[\\w.]+' },
        { name: 'ssn', pattern: '\\b(\\d{3})-\\d{2}-(\\d{4})\\b', replacement: '$1-XX-$2' },
        { name: 'user', pattern: '(?<k>user)=\\w+', replacement: '$<k>=*' },
        { name: 'dollar', pattern: 'cost \\d+', replacement: '$$$&!' },
      ],
    })!;
    expect(r.redactText('mail a@b.io and c@d.org password=x')).toBe(
      `mail [REDACTED:email] and [REDACTED:email] password=${P}`,
    );
    expect(r.redactText('ssn 123-45-6789')).toBe('ssn 123-XX-6789');
    expect(r.redactText('user=bob')).toBe('user=*');
    expect(r.redactText('cost 5')).toBe('$cost 5!');
    expect(r.counters.get('email')).toBe(2);
    expect(r.counters.get('ssn')).toBe(1);
  });

  it('treats $ references the way String.prototype.replace does', () => {
    const cases: [string, string, string][] = [
      ['(a)(b)', '$2$1', 'xaby'],
      ['(a)', '$2', 'xaby'],
      ['a', '$1', 'xaby'],
      ['(a)', '$01', 'xaby'],
      ['b', "[$`|$']", 'xaby'],
      ['(?<n>a)', '<$<n>><$<m>>', 'xaby'],
      ['a', '$<n>', 'xaby'],
      ['a', '$', 'xaby'],
    ];
    for (const [pattern, replacement, input] of cases) {
      const r = compileRedactor({ builtin: false, rules: [{ name: 'r', pattern, replacement }] })!;
      expect(r.redactText(input), `${pattern} -> ${replacement}`).toBe(
        input.replace(new RegExp(pattern, 'g'), replacement),
      );
    }
  });

  it('leave the text alone when a pattern matches nothing', () => {
    const r = compileRedactor({ builtin: false, rules: [{ name: 'x', pattern: 'zzz' }] })!;
    const s = 'nothing here';
    expect(r.redactText(s)).toBe(s);
  });

  it('ignore an empty match that the compile-time probes could not see', () => {
    const r = compileRedactor({ builtin: false, rules: [{ name: 'x', pattern: '(?=rare)' }] })!;
    expect(r.redactText('a rare thing')).toBe('a rare thing');
    expect(r.counters.get('x')).toBe(0);
  });
});

describe('compileRedactor: config', () => {
  const problems = (cfg: RedactConfig): { path: string; message: string }[] => {
    try {
      compileRedactor(cfg);
    } catch (err) {
      expect(err).toBeInstanceOf(RedactConfigError);
      expect((err as RedactConfigError).code).toBe('LOGWHARF_ERR_CONFIG');
      return (err as RedactConfigError).problems.map((p) => ({
        path: p.segments.join('.'),
        message: p.message,
      }));
    }
    throw new Error('no error');
  };

  it('returns null when nothing is asked for', () => {
    expect(compileRedactor({ builtin: false, rules: [] })).toBeNull();
    expect(compileRedactor({ builtin: [], rules: [] })).toBeNull();
  });

  it('names an unknown built-in and suggests one', () => {
    const p = problems({ builtin: ['bearer', 'card_numbers', 'ssn'], rules: [] });
    expect(p).toHaveLength(2);
    expect(p[0]).toEqual({
      path: 'builtin.1',
      message: expect.stringContaining(
        "unknown built-in redaction 'card_numbers' (did you mean 'card_number'?)",
      ),
    });
    expect(p[1]!.message).toContain(
      'known: bearer, url_password, password_pair, aws_access_key, card_number',
    );
  });

  it('reports every bad rule at once, naming it', () => {
    const p = problems({
      builtin: true,
      rules: [
        { name: 'ok', pattern: 'x' },
        { name: 'broken', pattern: '(unclosed' },
        { name: 'empty', pattern: 'a*' },
        { name: 'boundary', pattern: '\\b' },
        { name: 'ok', pattern: 'y' },
        { name: 'bearer', pattern: 'z' },
        { name: '', pattern: 'z' },
      ],
    });
    expect(p.map((x) => x.path)).toEqual([
      'rules.1.pattern',
      'rules.2.pattern',
      'rules.3.pattern',
      'rules.4.name',
      'rules.5.name',
      'rules.6.name',
    ]);
    expect(p[0]!.message).toMatch(/^rule 'broken': not a valid regular expression: /);
    expect(p[1]!.message).toContain("rule 'empty': the pattern can match empty text");
    expect(p[3]!.message).toContain("'ok' is used twice");
  });

  it('puts every problem in the error message, with config-style paths', () => {
    expect(() => compileRedactor({ builtin: ['nope'], rules: [{ name: 'e', pattern: '' }] })).toThrow(
      /builtin\[0\]: unknown built-in.*; rules\[0\]\.pattern: rule 'e'/,
    );
  });
});

describe('redactEvent', () => {
  const event = (over: Partial<LogEvent>): LogEvent => ({
    timestamp: '2024-05-01T12:00:00.000000000Z',
    id: 'x',
    dataset: 'docker',
    ingested: '2024-05-01T12:00:00.000Z',
    message: 'hello',
    severity: 6,
    facility: 3,
    host: 'h',
    ...over,
  });

  it('redacts message and original', () => {
    const e = event({ message: 'login password=x', original: '{"msg":"login password=x"}' });
    expect(all.redactEvent(e)).toBe(true);
    expect(e.message).toBe(`login password=${P}`);
    expect(e.original).toBe(`{"msg":"login password=${P}"}`);
  });

  it('redacts strings inside fields recursively and replaces values under secret keys whole', () => {
    const e = event({
      fields: {
        msg: 'card 4111111111111111',
        password: 'hunter2',
        db: { url: 'postgres://u:pw@db/x', apiKey: 12345, nested: [{ token: ['a'] }, 'Bearer abc.def'] },
        aws_secret_access_key: 'wJalr',
        secret: null,
        isSecret: true,
        count: 3,
      },
    });
    expect(all.redactEvent(e)).toBe(true);
    expect(e.fields).toEqual({
      msg: `card ${C}`,
      password: P,
      db: { url: `postgres://u:${U}@db/x`, apiKey: P, nested: [{ token: P }, `Bearer ${B}`] },
      aws_secret_access_key: A,
      secret: null,
      isSecret: true,
      count: 3,
    });
  });

  it("redacts an access line's URL, referrer, user agent and user, and leaves the rest", () => {
    const e = event({
      access: {
        client: '10.0.0.1',
        user: 'password=x',
        method: 'GET',
        url: '/reset?token=abc&next=/',
        version: '1.1',
        status: 200,
        bytes: 5,
        referrer: 'https://u:pw@shop.example/',
        agent: 'curl/8 Bearer abc.def',
      },
    });
    expect(all.redactEvent(e)).toBe(true);
    expect(e.access).toEqual({
      client: '10.0.0.1',
      user: `password=${P}`,
      method: 'GET',
      url: `/reset?token=${P}&next=/`,
      version: '1.1',
      status: 200,
      bytes: 5,
      referrer: `https://u:${U}@shop.example/`,
      agent: `curl/8 Bearer ${B}`,
    });
    const clean = event({ access: { client: '10.0.0.1', url: '/ok', status: 200, bytes: 1 } });
    expect(all.redactEvent(clean)).toBe(false);
  });

  it('keeps a __proto__ field a field', () => {
    const fields = JSON.parse('{"__proto__":"password=x"}') as Record<string, unknown>;
    const e = event({ fields });
    expect(all.redactEvent(e)).toBe(true);
    expect(Object.getOwnPropertyDescriptor(e.fields, '__proto__')?.value).toBe(`password=${P}`);
    expect(Object.getPrototypeOf(e.fields)).toBe(Object.prototype);
  });

  it('walks nesting deeper than the recursion limit', () => {
    let deep: Record<string, unknown> = { password: 'x', note: 'token=y' };
    for (let i = 0; i < 5000; i++) deep = { d: deep };
    const e = event({ fields: deep });
    expect(all.redactEvent(e)).toBe(true);
    let inner = e.fields as Record<string, unknown>;
    while (inner.d !== undefined) inner = inner.d as Record<string, unknown>;
    expect(inner).toEqual({ password: P, note: `token=${P}` });
  });

  it('redacts syslog structured data values, whole under secret keys', () => {
    const e = event({
      syslog: { structuredData: { 'auth@32473': { password: 'x', url: 'https://u:p@h/', user: 'bob' } } },
    });
    expect(all.redactEvent(e)).toBe(true);
    expect(e.syslog?.structuredData).toEqual({
      'auth@32473': { password: P, url: `https://u:${U}@h/`, user: 'bob' },
    });
  });

  it('changes nothing, and says so, for a clean event', () => {
    const fields = { a: 'b', n: [1, 'two', { c: 'd' }], level: 'info' };
    const e = event({ message: 'GET /healthz 200', original: '{"msg":"GET /healthz 200"}', fields });
    expect(all.redactEvent(e)).toBe(false);
    expect(e.fields).toBe(fields);
    expect(e.fields).toEqual({ a: 'b', n: [1, 'two', { c: 'd' }], level: 'info' });
  });

  it('replaces values under secret keys only when that rule is on', () => {
    const r = compileRedactor({ builtin: ['card_number'], rules: [] })!;
    const e = event({ fields: { password: 'x', pan: '4111111111111111' } });
    expect(r.redactEvent(e)).toBe(true);
    expect(e.fields).toEqual({ password: 'x', pan: C });
  });
});

describe('keyKind', () => {
  it('every secret key trips the quick check that gates the pair finders', () => {
    const hint = new RegExp(`${HINTS.password_pair}|${HINTS.aws_access_key}`, 'i');
    for (const key of ['password', 'passwd', 'passphrase', 'db_pass', 'pwd', 'client_secret', 'SECRET_KEY']) {
      expect(hint.test(`${key}=x`), key).toBe(true);
    }
    for (const key of [
      'private_key',
      'private-key',
      'access_token',
      'X-Api-Key',
      'apiKey',
      'API_KEY',
      'SecretAccessKey',
    ]) {
      expect(hint.test(`${key}=x`), key).toBe(true);
    }
  });

  it.each([
    ['password', 1],
    ['Password', 1],
    ['DB_PASSWORD', 1],
    ['user.passwd', 1],
    ['passphrase', 1],
    ['client_secret', 1],
    ['clientSecret', 1],
    ['SECRET_KEY', 1],
    ['private_key', 1],
    ['access_token', 1],
    ['csrftoken', 1],
    ['x-api-key', 1],
    ['apiKey', 1],
    ['pwd', 1],
    ['db_pwd', 1],
    ['pass', 1],
    ['dbPass', 1],
    ['aws_secret_access_key', 2],
    ['SecretAccessKey', 2],
    ['AWS_SECRET_KEY', 2],
    ['PWD', 0],
    ['OLDPWD', 0],
    ['bypass', 0],
    ['compass', 0],
    ['tokens', 0],
    ['token_count', 0],
    ['password_hash_algo', 0],
    ['secret_name', 0],
    ['access_key_id', 0],
    ['key', 0],
    ['', 0],
  ])('%s -> %i', (key, kind) => {
    expect(keyKind(key)).toBe(kind);
  });
});
