/**
 * The Elasticsearch distribution the tests run: which one, where it is cached, and how it is
 * fetched and unpacked. Shared by `npm run services` (the shared node on port 9200) and
 * test/helpers/es-node.ts (dedicated nodes that fault tests stop and start).
 *
 * It is the `integ-test-zip` from Maven Central: a bare Elasticsearch (modules apm,
 * transport-netty4, x-pack-core, x-pack-security), about 100 MB, with no bundled JDK, so it runs
 * on the machine's Java. The cache lives outside the repository, so every worktree and every
 * clean clone shares one download.
 */
import { chmod, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { captureRun } from './exec.js';
import { fileExists } from './host.js';

/**
 * The newest integ-test-zip on Maven Central that runs on Java 17, which is what Debian 12 ships
 * and CI has. Elasticsearch 9 needs Java 21: move to it together with the CI image.
 */
export const ES_VERSION = '8.19.21';
/** Elasticsearch 8 runs on Java 17 or newer. */
export const ES_MIN_JAVA = 17;

const ES_ARTIFACT = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip`;
/** Where to fetch the zip by hand, for the message when Maven is missing. */
export const ES_ZIP_URL =
  'https://repo1.maven.org/maven2/org/elasticsearch/distribution/integ-test-zip/elasticsearch/' +
  `${ES_VERSION}/elasticsearch-${ES_VERSION}.zip`;

/** `LOGWHARF_CACHE_DIR`, else `$XDG_CACHE_HOME/logwharf`, else `~/.cache/logwharf`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LOGWHARF_CACHE_DIR) return env.LOGWHARF_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'logwharf');
}

export interface EsPaths {
  cache: string;
  /** The downloaded distribution. */
  zip: string;
  /** The unpacked distribution (ES_HOME); read-only but for its config directory. */
  home: string;
  /** The shared node's data, logs and pid file (dedicated nodes have their own, in a temp dir). */
  dataDir: string;
  logsDir: string;
  runDir: string;
  pidFile: string;
}

/** Pure: where everything lives under a cache directory. */
export function esPaths(cache: string = cacheDir()): EsPaths {
  const runDir = join(cache, 'run');
  return {
    cache,
    zip: join(cache, 'dl', `elasticsearch-${ES_VERSION}.zip`),
    home: join(cache, `elasticsearch-${ES_VERSION}`),
    dataDir: join(cache, 'es-data'),
    logsDir: join(cache, 'es-logs'),
    runDir,
    pidFile: join(runDir, 'es.pid'),
  };
}

/** The launcher script; its presence marks a complete unpack (see `extractDistribution`). */
export function esLauncher(home: string): string {
  return join(home, 'bin', 'elasticsearch');
}

export function distributionPresent(paths: EsPaths): Promise<boolean> {
  return fileExists(esLauncher(paths.home));
}

/** Fetches the zip into the cache with `mvn dependency:copy`, through a temporary directory. */
export async function downloadDistribution(
  paths: EsPaths,
  tools: { mvn: string; javaHome: string },
  log: (line: string) => void,
): Promise<void> {
  const staging = join(paths.cache, 'dl', `.partial-${process.pid}`);
  await mkdir(staging, { recursive: true });
  try {
    log(`elasticsearch: downloading ${ES_ARTIFACT} (about 100 MB) with Maven`);
    const run = await captureRun(
      tools.mvn,
      ['-B', '-q', 'dependency:copy', `-Dartifact=${ES_ARTIFACT}`, `-DoutputDirectory=${staging}`],
      // A directory of our own as the working directory: a pom.xml in the current one would
      // otherwise become the project Maven builds.
      { cwd: staging, env: { ...process.env, JAVA_HOME: tools.javaHome }, timeoutMs: 15 * 60_000 },
    );
    const fetched = join(staging, `elasticsearch-${ES_VERSION}.zip`);
    if (run.code !== 0 || !(await fileExists(fetched))) {
      const output = `${run.stdout}${run.stderr}`.trimEnd().split('\n').slice(-30).join('\n');
      const how = run.timedOut ? 'timed out after 15 minutes' : `failed (exit ${run.code ?? run.signal})`;
      throw new Error(
        `elasticsearch: mvn dependency:copy ${how} — is Maven Central reachable (a proxy in ~/.m2/settings.xml)? ` +
          `Or download ${ES_ZIP_URL} to ${paths.zip} yourself.\n--- Maven's output ---\n${output || '(none)'}`,
      );
    }
    // Renamed into place only when complete, so an interrupted download is never taken for the zip.
    await rename(fetched, paths.zip);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export interface Extractor {
  tool: 'unzip' | 'jar';
  path: string;
}

/**
 * Unpacks the zip next to it, through a temporary directory renamed into place at the end, so a
 * half-unpacked distribution is never taken for a complete one.
 */
export async function extractDistribution(
  paths: EsPaths,
  extractor: Extractor,
  log: (line: string) => void,
): Promise<void> {
  const staging = join(paths.cache, `.unpack-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    log(`elasticsearch: unpacking ${paths.zip} with ${extractor.tool}`);
    const args = extractor.tool === 'unzip' ? ['-q', paths.zip, '-d', staging] : ['xf', paths.zip];
    const run = await captureRun(extractor.path, args, { cwd: staging, timeoutMs: 5 * 60_000 });
    const unpacked = join(staging, `elasticsearch-${ES_VERSION}`);
    if (run.code !== 0 || !(await fileExists(esLauncher(unpacked)))) {
      // A damaged zip would fail the same way every time: remove it so the next run fetches it again.
      await rm(paths.zip, { force: true });
      throw new Error(
        `elasticsearch: unpacking ${paths.zip} with ${extractor.tool} failed (exit ${run.code ?? run.signal}); ` +
          `the zip was removed, run \`npm run services\` again to fetch it anew.\n${run.stderr.trimEnd()}`,
      );
    }
    // `jar xf` drops the executable bits that unzip restores from the zip.
    if (extractor.tool === 'jar') await markScriptsExecutable(join(unpacked, 'bin'));
    await rename(unpacked, paths.home).catch(async (err: unknown) => {
      // Another `npm run services` (another worktree) finished first: its copy is as good.
      if (!(await distributionPresent(paths))) throw err;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function markScriptsExecutable(binDir: string): Promise<void> {
  for (const name of await readdir(binDir)) {
    if (!/\.(bat|exe)$/.test(name)) await chmod(join(binDir, name), 0o755);
  }
}
