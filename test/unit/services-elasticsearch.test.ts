import { describe, expect, it } from 'vitest';
import {
  type ElasticsearchFacts,
  ES_LOCAL_URL,
  planElasticsearch,
} from '../../scripts/services/elasticsearch.js';
import { cacheDir, ES_ZIP_URL, esPaths } from '../../scripts/services/lib/es-distribution.js';
import { classifyHealthAnswer, isHealthy } from '../../scripts/services/lib/es-health.js';
import { esCommand, logExcerpt } from '../../scripts/services/lib/es-launch.js';
import { chooseJava, type JavaHome, javaMajorFromRelease } from '../../scripts/services/lib/java.js';

const JAVA17: JavaHome = { home: '/usr/lib/jvm/java-17-openjdk-amd64', major: 17, source: 'PATH' };

/** A Debian machine as root with Java, Maven and unzip, the distribution cached, nothing on 9200. */
function facts(over: Partial<ElasticsearchFacts> = {}): ElasticsearchFacts {
  return {
    external: undefined,
    local: { kind: 'down', reason: 'ECONNREFUSED' },
    startedEarlier: false,
    zip: true,
    distribution: true,
    java: JAVA17,
    mvn: true,
    unzip: true,
    jar: true,
    root: true,
    esUser: true,
    debianLike: true,
    os: 'Debian GNU/Linux 12 (bookworm)',
    paths: esPaths('/root/.cache/logwharf'),
    ...over,
  };
}

const nonRoot = { root: false, esUser: false };

describe('planElasticsearch', () => {
  describe('with LOGWHARF_TEST_ES_URL', () => {
    it('uses a healthy cluster there and starts nothing', () => {
      const plan = planElasticsearch(
        facts({ external: { url: 'http://es:9200', probe: { kind: 'elasticsearch', status: 'yellow' } } }),
      );
      expect(plan).toMatchObject({ url: 'http://es:9200', start: 'none', install: [], problems: [] });
    });

    it('fails, naming the variable, when the cluster does not answer, even if one runs on 9200', () => {
      const plan = planElasticsearch(
        facts({
          external: { url: 'http://es:9200', probe: { kind: 'down', reason: 'ENOTFOUND' } },
          local: { kind: 'elasticsearch', status: 'green' },
        }),
      );
      expect(plan.start).toBe('none');
      expect(plan.problems).toHaveLength(1);
      expect(plan.problems[0]).toContain('LOGWHARF_TEST_ES_URL=http://es:9200');
      expect(plan.problems[0]).toContain('ENOTFOUND');
      expect(plan.problems[0]).toContain('unset LOGWHARF_TEST_ES_URL');
    });

    it('fails when the cluster there is red', () => {
      const plan = planElasticsearch(
        facts({ external: { url: 'http://es:9200', probe: { kind: 'elasticsearch', status: 'red' } } }),
      );
      expect(plan.problems[0]).toContain('cluster status red');
    });
  });

  it('reuses an Elasticsearch that answers on 9200, even where nothing could be installed', () => {
    const plan = planElasticsearch(
      facts({
        ...nonRoot,
        java: undefined,
        mvn: false,
        zip: false,
        distribution: false,
        local: { kind: 'elasticsearch', status: 'green' },
      }),
    );
    expect(plan).toEqual({
      url: ES_LOCAL_URL,
      install: [],
      download: false,
      extract: undefined,
      createUser: false,
      start: 'none',
      problems: [],
    });
  });

  it('waits for a node on 9200 that answers red (still recovering)', () => {
    expect(planElasticsearch(facts({ local: { kind: 'elasticsearch', status: 'red' } })).start).toBe('wait');
  });

  it('waits for the node it started earlier when 9200 does not answer yet', () => {
    expect(planElasticsearch(facts({ startedEarlier: true })).start).toBe('wait');
  });

  it('refuses a port 9200 held by something that is not Elasticsearch', () => {
    const plan = planElasticsearch(
      facts({ local: { kind: 'other', detail: 'HTTP 404 without the header' } }),
    );
    expect(plan.start).toBe('none');
    expect(plan.problems[0]).toMatch(/answers, but not as Elasticsearch .*port 9200.*LOGWHARF_TEST_ES_URL/);
  });

  it('starts the cached distribution when everything is there', () => {
    expect(planElasticsearch(facts())).toEqual({
      url: ES_LOCAL_URL,
      install: [],
      download: false,
      extract: undefined,
      createUser: false,
      start: 'launch',
      problems: [],
    });
  });

  it('unpacks a downloaded zip without downloading it again', () => {
    const plan = planElasticsearch(facts({ distribution: false, mvn: false }));
    expect(plan).toMatchObject({ download: false, extract: 'unzip', install: [], problems: [] });
  });

  it('on a cold cache downloads, unpacks and creates the user', () => {
    const plan = planElasticsearch(facts({ zip: false, distribution: false, esUser: false }));
    expect(plan).toMatchObject({ download: true, extract: 'unzip', createUser: true, start: 'launch' });
  });

  it('as root on Debian installs what is missing, in one apt-get call', () => {
    const plan = planElasticsearch(
      facts({ zip: false, distribution: false, java: undefined, mvn: false, unzip: false, jar: false }),
    );
    expect(plan.install).toEqual(['openjdk-17-jdk-headless', 'maven', 'unzip']);
    expect(plan.problems).toEqual([]);
    expect(plan.start).toBe('launch');
  });

  it('needs neither Maven nor unzip when the distribution is unpacked', () => {
    const plan = planElasticsearch(facts({ ...nonRoot, mvn: false, unzip: false, jar: false, zip: false }));
    expect(plan).toMatchObject({ install: [], problems: [], start: 'launch', createUser: false });
  });

  it('falls back to jar when unzip is missing and cannot be installed', () => {
    const plan = planElasticsearch(facts({ ...nonRoot, distribution: false, unzip: false }));
    expect(plan).toMatchObject({ extract: 'jar', install: [], problems: [] });
  });

  it('as a user reports every missing tool at once, with what to do', () => {
    const plan = planElasticsearch(
      facts({
        ...nonRoot,
        zip: false,
        distribution: false,
        java: undefined,
        mvn: false,
        unzip: false,
        jar: false,
      }),
    );
    expect(plan.start).toBe('none');
    expect(plan.install).toEqual([]);
    expect(plan.problems).toHaveLength(3);
    expect(plan.problems[0]).toMatch(
      /no Java 17 or newer.*openjdk-17-jdk-headless.*ES_JAVA_HOME.*not running as root/,
    );
    expect(plan.problems[1]).toContain('apt-get install maven');
    expect(plan.problems[1]).toContain(ES_ZIP_URL);
    expect(plan.problems[1]).toContain('/root/.cache/logwharf/dl/elasticsearch-8.19.21.zip');
    expect(plan.problems[2]).toContain('apt-get install unzip');
  });

  it('says why nothing is installed on a root machine that is not Debian', () => {
    const plan = planElasticsearch(facts({ java: undefined, debianLike: false, os: 'Fedora Linux 40' }));
    expect(plan.problems[0]).toContain('Fedora Linux 40 is not Debian or Ubuntu');
  });

  it('runs as the current user, creating nobody, when not root', () => {
    const plan = planElasticsearch(facts({ ...nonRoot, zip: false, distribution: false }));
    expect(plan).toMatchObject({ createUser: false, download: true, start: 'launch' });
  });
});

describe('classifyHealthAnswer', () => {
  const es = (statusCode: number, body: string) => ({ statusCode, product: 'Elasticsearch', body });

  it('reads the cluster status of an Elasticsearch', () => {
    expect(classifyHealthAnswer(es(200, '{"cluster_name":"x","status":"yellow"}'))).toEqual({
      kind: 'elasticsearch',
      status: 'yellow',
    });
    expect(classifyHealthAnswer(es(503, '{"status":"red","timed_out":true}'))).toEqual({
      kind: 'elasticsearch',
      status: 'red',
    });
  });

  it('does not take a server without the product header for Elasticsearch', () => {
    const probe = classifyHealthAnswer({ statusCode: 200, product: undefined, body: '{"status":"green"}' });
    expect(probe.kind).toBe('other');
  });

  it('says that credentials are wanted on 401', () => {
    const probe = classifyHealthAnswer(es(401, '{"error":"..."}'));
    expect(probe).toEqual({
      kind: 'other',
      detail: expect.stringContaining('http://user:password@host:9200'),
    });
  });

  it('counts yellow and green as healthy, red and anything else not', () => {
    expect(isHealthy({ kind: 'elasticsearch', status: 'green' })).toBe(true);
    expect(isHealthy({ kind: 'elasticsearch', status: 'yellow' })).toBe(true);
    expect(isHealthy({ kind: 'elasticsearch', status: 'red' })).toBe(false);
    expect(isHealthy({ kind: 'down', reason: 'ECONNREFUSED' })).toBe(false);
  });
});

describe('Java', () => {
  it('reads the major version from a release file', () => {
    expect(javaMajorFromRelease('IMPLEMENTOR="Debian"\nJAVA_VERSION="17.0.15"\n')).toBe(17);
    expect(javaMajorFromRelease('JAVA_VERSION="25"\n')).toBe(25);
    expect(javaMajorFromRelease('JAVA_VERSION="1.8.0_392"\n')).toBe(8);
    expect(javaMajorFromRelease('nothing here')).toBeUndefined();
  });

  const at = (major: number, source: string): JavaHome => ({
    home: `/jvm/${major}-${source}`,
    major,
    source,
  });

  it('prefers a named home, then java on PATH, then the oldest recent enough', () => {
    expect(chooseJava([at(25, '/usr/lib/jvm'), at(17, 'PATH'), at(21, 'JAVA_HOME')], 17)?.source).toBe(
      'JAVA_HOME',
    );
    expect(chooseJava([at(25, '/usr/lib/jvm'), at(21, 'PATH'), at(17, '/usr/lib/jvm')], 17)?.major).toBe(21);
    expect(chooseJava([at(25, '/usr/lib/jvm'), at(21, '/usr/lib/jvm')], 17)?.major).toBe(21);
  });

  it('ignores Java older than the minimum, even when named', () => {
    expect(chooseJava([at(11, 'JAVA_HOME'), at(8, 'PATH'), at(17, '/usr/lib/jvm')], 17)?.major).toBe(17);
    expect(chooseJava([at(11, 'PATH')], 17)).toBeUndefined();
  });
});

describe('cache and command line', () => {
  it('puts the cache outside the repository, overridable', () => {
    expect(cacheDir({ LOGWHARF_CACHE_DIR: '/ci/cache', XDG_CACHE_HOME: '/x' })).toBe('/ci/cache');
    expect(cacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/logwharf');
    expect(cacheDir({})).toMatch(/\/\.cache\/logwharf$/);
  });

  const layout = {
    home: '/c/elasticsearch-8.19.21',
    dataDir: '/c/es-data',
    logsDir: '/c/es-logs',
    pidFile: '/c/run/es.pid',
    httpPort: 9200,
    javaHome: '/usr/lib/jvm/java-17-openjdk-amd64',
  };

  it('starts a single loopback node, daemonized, with a 512 MiB heap and security off', () => {
    const { cmd, args } = esCommand(layout);
    expect(cmd).toBe('env');
    expect(args).toContain('ES_JAVA_OPTS=-Xms512m -Xmx512m');
    expect(args).toContain('ES_JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64');
    const launcher = args.indexOf('/c/elasticsearch-8.19.21/bin/elasticsearch');
    expect(args.slice(launcher + 1, launcher + 4)).toEqual(['-d', '-p', '/c/run/es.pid']);
    for (const setting of [
      'discovery.type=single-node',
      'network.host=127.0.0.1',
      'http.port=9200',
      'path.data=/c/es-data',
      'path.logs=/c/es-logs',
      'xpack.security.enabled=false',
    ]) {
      expect(args[args.indexOf(setting) - 1]).toBe('-E');
    }
    expect(args.some((a) => a.startsWith('transport.port='))).toBe(false);
  });

  it('runs as the given user through runuser, with its own config, temp dir and transport port', () => {
    const { cmd, args } = esCommand({
      ...layout,
      user: 'lwes',
      confDir: '/t/config',
      tmpDir: '/t/tmp',
      transportPort: 40001,
      heapMb: 256,
    });
    expect(cmd).toBe('runuser');
    expect(args.slice(0, 4)).toEqual(['-u', 'lwes', '--', 'env']);
    expect(args).toEqual(
      expect.arrayContaining([
        'ES_PATH_CONF=/t/config',
        'ES_TMPDIR=/t/tmp',
        'ES_JAVA_OPTS=-Xms256m -Xmx256m',
        'transport.port=40001',
      ]),
    );
  });
});

describe('logExcerpt', () => {
  const entry = (n: number, level = 'INFO ') =>
    `[2026-01-01T00:00:${String(n).padStart(2, '0')}][${level}][o.e.n.Node] [vm] line ${n}`;

  it('drops Java stack frames and keeps the causes', () => {
    const log = [
      entry(1, 'ERROR'),
      'org.elasticsearch.http.BindHttpException: Failed to bind to 127.0.0.1:9200',
      '\tat org.elasticsearch.server@8.19.21/org.elasticsearch.http.Foo.bind(Foo.java:1)',
      'Caused by: java.net.BindException: Address already in use',
      '\t... 12 more',
      '\tSuppressed: java.lang.RuntimeException: Rethrowing promise failure cause',
      entry(2),
    ].join('\n');
    expect(logExcerpt(log)).toBe(
      [
        entry(1, 'ERROR'),
        'org.elasticsearch.http.BindHttpException: Failed to bind to 127.0.0.1:9200',
        'Caused by: java.net.BindException: Address already in use',
        entry(2),
      ].join('\n'),
    );
  });

  it('keeps an ERROR entry older than the tail, with its exception, before the tail', () => {
    const log = [
      entry(1),
      entry(2, 'ERROR'),
      'java.lang.IllegalStateException: boom',
      ...Array.from({ length: 20 }, (_, i) => entry(10 + i)),
    ].join('\n');
    const lines = logExcerpt(log, 3).split('\n');
    expect(lines).toEqual([
      entry(2, 'ERROR'),
      'java.lang.IllegalStateException: boom',
      '[…]',
      entry(27),
      entry(28),
      entry(29),
    ]);
  });

  it('starts the tail at the head of an entry, not amid its exception', () => {
    const log = [entry(1), entry(2, 'WARN '), 'java.io.IOException: one', 'Caused by: two', entry(3)].join(
      '\n',
    );
    expect(logExcerpt(log, 2).split('\n')[0]).toBe(entry(2, 'WARN '));
  });

  it('says when there is nothing', () => {
    expect(logExcerpt('')).toBe('(empty)');
  });
});
