/**
 * The Elasticsearch the integration tests index into and search.
 *
 * Order: LOGWHARF_TEST_ES_URL, when set, names an existing cluster that must answer; nothing is
 * started then. Else an Elasticsearch already answering on 127.0.0.1:9200 is used as it is.
 * Else one is started there from the cached integ-test distribution (see lib/es-distribution.ts),
 * fetched with Maven and unpacked first if need be, installing Java, Maven or unzip as root on
 * Debian/Ubuntu; as root it runs as the system user `lwes`, because Elasticsearch refuses root.
 * Deciding (`planElasticsearch`) is pure; acting on the plan is the thin shell around it.
 */

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { aptInstall } from './lib/apt.js';
import { runningFromPidFile } from './lib/daemon.js';
import {
  cacheDir,
  distributionPresent,
  downloadDistribution,
  ES_MIN_JAVA,
  ES_VERSION,
  ES_ZIP_URL,
  type EsPaths,
  type Extractor,
  esPaths,
  extractDistribution,
} from './lib/es-distribution.js';
import { describeProbe, type EsProbe, isHealthy, probeElasticsearch } from './lib/es-health.js';
import { esUrlFor, launchElasticsearch, readLogExcerpt, serverLog } from './lib/es-launch.js';
import { capture } from './lib/exec.js';
import { fileExists, findExecutable, isRoot, osDescription } from './lib/host.js';
import { findJava, type JavaHome } from './lib/java.js';
import { waitFor } from './lib/poll.js';
import { chownTree, createSystemUser, ES_USER, grantTraverse, userExists } from './lib/service-user.js';
import type { Service, ServiceContext } from './service.js';

export const ES_LOCAL_PORT = 9200;
export const ES_LOCAL_URL = esUrlFor(ES_LOCAL_PORT);
/** Elasticsearch starts in 15–30 s here; a slow CI machine gets four times that. */
const START_TIMEOUT_MS = 120_000;

export interface ElasticsearchFacts {
  /** LOGWHARF_TEST_ES_URL and what it answered; when set, nothing else matters. */
  external: { url: string; probe: EsProbe } | undefined;
  /** What 127.0.0.1:9200 answered. */
  local: EsProbe;
  /** A node this script started earlier still runs (pid from the pid file): it may be starting. */
  startedEarlier: boolean;
  zip: boolean;
  /** The unpacked distribution is complete. */
  distribution: boolean;
  java: JavaHome | undefined;
  mvn: boolean;
  unzip: boolean;
  /** The chosen Java is a JDK with `jar`, which can unpack a zip too. */
  jar: boolean;
  root: boolean;
  /** The `lwes` account exists (only looked at as root). */
  esUser: boolean;
  debianLike: boolean;
  os: string;
  paths: EsPaths;
}

export interface ElasticsearchPlan {
  /** What the tests get as ELASTICSEARCH_URL. */
  url: string;
  /** Debian packages to install, in one apt-get call. */
  install: string[];
  download: boolean;
  extract: Extractor['tool'] | undefined;
  createUser: boolean;
  /** `wait`: a node answers or runs but is not healthy yet. */
  start: 'none' | 'wait' | 'launch';
  /** Non-empty: nothing is done, and every problem is reported at once. */
  problems: string[];
}

/** A plan that only uses (or waits for) a node, or only reports problems. */
function only(url: string, start: ElasticsearchPlan['start'], problems: string[] = []): ElasticsearchPlan {
  return { url, install: [], download: false, extract: undefined, createUser: false, start, problems };
}

/** Pure: what to install, fetch and start, or why that cannot happen here. */
export function planElasticsearch(f: ElasticsearchFacts): ElasticsearchPlan {
  if (f.external) {
    const { url, probe } = f.external;
    if (isHealthy(probe)) return only(url, 'none');
    return only(url, 'none', [
      `elasticsearch: LOGWHARF_TEST_ES_URL=${url} is not a healthy Elasticsearch (${describeProbe(probe)}) — ` +
        `start that cluster or fix the URL, or unset LOGWHARF_TEST_ES_URL so that \`npm run services\` starts one on ${ES_LOCAL_URL}.`,
    ]);
  }
  const url = ES_LOCAL_URL;
  if (f.local.kind === 'elasticsearch') {
    return only(url, isHealthy(f.local) ? 'none' : 'wait');
  }
  if (f.local.kind === 'other') {
    return only(url, 'none', [
      `elasticsearch: ${url} answers, but not as Elasticsearch (${f.local.detail}) — stop what listens on ` +
        `port ${ES_LOCAL_PORT}, or set LOGWHARF_TEST_ES_URL to an Elasticsearch that answers.`,
    ]);
  }
  if (f.startedEarlier) return only(url, 'wait');

  const install: string[] = [];
  const problems: string[] = [];
  const canInstall = f.root && f.debianLike;
  const whyNot = !f.root ? 'not running as root' : `${f.os} is not Debian or Ubuntu`;
  const cannot = `it cannot be installed here: ${whyNot}`;
  if (!f.java) {
    if (canInstall) install.push('openjdk-17-jdk-headless');
    else
      problems.push(
        `elasticsearch: no Java ${ES_MIN_JAVA} or newer found (looked at ES_JAVA_HOME, JAVA_HOME, java on PATH, /usr/lib/jvm) — ` +
          `install one (Debian/Ubuntu: apt-get install openjdk-17-jdk-headless) or set ES_JAVA_HOME to one (${cannot}).`,
      );
  }
  const download = !f.distribution && !f.zip;
  if (download && !f.mvn) {
    if (canInstall) install.push('maven');
    else
      problems.push(
        `elasticsearch: Maven (mvn) fetches Elasticsearch ${ES_VERSION} and is not installed — install it ` +
          `(Debian/Ubuntu: apt-get install maven; ${cannot}), or download ${ES_ZIP_URL} to ${f.paths.zip} yourself.`,
      );
  }
  let extract: ElasticsearchPlan['extract'];
  if (!f.distribution) {
    if (f.unzip) extract = 'unzip';
    else if (canInstall) {
      install.push('unzip');
      extract = 'unzip';
    } else if (f.jar) extract = 'jar';
    else
      problems.push(
        `elasticsearch: neither unzip nor a JDK's jar is installed to unpack ${f.paths.zip} — install unzip ` +
          `(Debian/Ubuntu: apt-get install unzip; ${cannot}).`,
      );
  }
  if (problems.length > 0) return only(url, 'none', problems);
  return { url, install, download, extract, createUser: f.root && !f.esUser, start: 'launch', problems };
}

export async function elasticsearchFacts(env: NodeJS.ProcessEnv = process.env): Promise<ElasticsearchFacts> {
  const paths = esPaths(cacheDir(env));
  const externalUrl = env.LOGWHARF_TEST_ES_URL?.trim();
  const root = isRoot();
  const [external, local, startedEarlier, zip, distribution, java, mvn, unzip, esUser, os] =
    await Promise.all([
      externalUrl
        ? probeElasticsearch(externalUrl).then((probe) => ({ url: externalUrl, probe }))
        : undefined,
      probeElasticsearch(ES_LOCAL_URL),
      runningFromPidFile(paths.pidFile, 'java').then((pid) => pid !== undefined),
      fileExists(paths.zip),
      distributionPresent(paths),
      findJava(ES_MIN_JAVA, env),
      findExecutable('mvn'),
      findExecutable('unzip'),
      root ? userExists(ES_USER) : true,
      osDescription(),
    ]);
  return {
    external,
    local,
    startedEarlier,
    zip,
    distribution,
    java,
    mvn: mvn !== undefined,
    unzip: unzip !== undefined,
    jar: java !== undefined && (await fileExists(join(java.home, 'bin', 'jar'))),
    root,
    esUser,
    debianLike: os.debianLike,
    os: os.name,
    paths,
  };
}

async function ensureElasticsearch(ctx: ServiceContext): Promise<Record<string, string>> {
  const log = (line: string) => ctx.log(line.startsWith('elasticsearch: ') ? line : `elasticsearch: ${line}`);
  let facts = await elasticsearchFacts();
  const plan = planElasticsearch(facts);
  if (plan.problems.length > 0) throw new Error(plan.problems.join('\n'));
  const vars = { ELASTICSEARCH_URL: plan.url };
  if (plan.start === 'none') return vars;
  if (plan.start === 'wait') {
    log(`a node on ${plan.url} runs but is not healthy yet; waiting for it`);
    await waitUntilHealthy(plan.url, facts.paths);
    return vars;
  }

  if (plan.install.length > 0) {
    await aptInstall(plan.install, log);
    facts = await elasticsearchFacts();
  }
  const { paths, java } = facts;
  if (!java) throw new Error(`elasticsearch: still no Java ${ES_MIN_JAVA} or newer after apt-get install`);
  if (plan.download) {
    const mvn = await findExecutable('mvn');
    if (!mvn) throw new Error('elasticsearch: mvn still not found after apt-get install maven');
    await downloadDistribution(paths, { mvn, javaHome: java.home }, log);
  }
  if (plan.extract) {
    const tool = plan.extract === 'unzip' ? await findExecutable('unzip') : join(java.home, 'bin', 'jar');
    if (!tool) throw new Error('elasticsearch: unzip still not found after apt-get install unzip');
    await extractDistribution(paths, { tool: plan.extract, path: tool }, log);
    // A root umask of 077 would leave the distribution unreadable to the user that runs it.
    if (facts.root) await capture('chmod', ['-R', 'a+rX', paths.home]);
  }

  await Promise.all([paths.dataDir, paths.logsDir, paths.runDir].map((d) => mkdir(d, { recursive: true })));
  const user = facts.root ? ES_USER : undefined;
  if (user) {
    if (plan.createUser) await createSystemUser(user, log);
    await grantTraverse(paths.cache, log);
    // ES writes its keystore into the config directory on first start.
    await chownTree(user, [paths.dataDir, paths.logsDir, paths.runDir, join(paths.home, 'config')]);
  }
  log(`using Java ${java.major} at ${java.home}`);
  const started = Date.now();
  await launchElasticsearch({
    home: paths.home,
    dataDir: paths.dataDir,
    logsDir: paths.logsDir,
    pidFile: paths.pidFile,
    httpPort: ES_LOCAL_PORT,
    javaHome: java.home,
    ...(user && { user }),
    timeoutMs: START_TIMEOUT_MS,
    log,
  });
  log(
    `Elasticsearch ${ES_VERSION} answers on ${plan.url} (started in ${Math.round((Date.now() - started) / 1000)} s)`,
  );
  return vars;
}

async function waitUntilHealthy(url: string, paths: EsPaths): Promise<void> {
  try {
    await waitFor(
      async () => {
        const probe = await probeElasticsearch(url, 2000);
        if (!isHealthy(probe)) throw new Error(describeProbe(probe));
        return true;
      },
      {
        timeoutMs: START_TIMEOUT_MS,
        intervalMs: 250,
        what: `Elasticsearch at ${url} to report yellow or green`,
      },
    );
  } catch (err) {
    const log = serverLog(paths.logsDir);
    throw new Error(
      `elasticsearch: ${err instanceof Error ? err.message : err} — if the node in ${paths.pidFile} is stuck, ` +
        `stop it (kill $(cat ${paths.pidFile})) and run \`npm run services\` again.\n` +
        `--- from ${log} ---\n${await readLogExcerpt(log)}`,
    );
  }
}

export const elasticsearchService: Service = { name: 'elasticsearch', ensure: ensureElasticsearch };
