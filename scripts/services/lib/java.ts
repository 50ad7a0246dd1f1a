/**
 * Finding a Java installation (a JDK or JRE home) of at least a given major version: to run
 * Elasticsearch, and Maven, which fetches it.
 */
import { readdir, readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileExists, findExecutable } from './host.js';

export interface JavaHome {
  home: string;
  /** 17 for "17.0.15", 8 for "1.8.0_392". */
  major: number;
  /** Where it was found, for messages: "ES_JAVA_HOME", "JAVA_HOME", "PATH", "/usr/lib/jvm". */
  source: string;
}

const JVM_DIRS = ['/usr/lib/jvm', '/usr/local/lib/jvm', '/opt/java'];

/** Pure: the major version in a `release` file's JAVA_VERSION line, if any. */
export function javaMajorFromRelease(release: string): number | undefined {
  const version = /^JAVA_VERSION="?([^"\n]+)"?/m.exec(release)?.[1];
  if (!version) return undefined;
  const [first, second] = version.split(/[.+_-]/).map((part) => Number.parseInt(part, 10));
  const major = first === 1 ? second : first; // "1.8.0" is Java 8
  return major !== undefined && Number.isInteger(major) ? major : undefined;
}

/**
 * Pure: which Java to use. One the user named (ES_JAVA_HOME, JAVA_HOME) wins if it is recent
 * enough; then the machine's default `java` (the one its administrator chose); then the oldest
 * recent-enough one installed, because the oldest supported release is what Elasticsearch 8 has
 * been tested against longest.
 */
export function chooseJava(candidates: JavaHome[], minMajor: number): JavaHome | undefined {
  const ok = candidates.filter((c) => c.major >= minMajor);
  const named = ok.find((c) => c.source === 'ES_JAVA_HOME' || c.source === 'JAVA_HOME');
  if (named) return named;
  const fromPath = ok.find((c) => c.source === 'PATH');
  if (fromPath) return fromPath;
  return [...ok].sort((a, b) => a.major - b.major)[0];
}

async function javaAt(home: string, source: string): Promise<JavaHome | undefined> {
  if (!(await fileExists(join(home, 'bin', 'java')))) return undefined;
  const release = await readFile(join(home, 'release'), 'utf8').catch(() => '');
  const major = javaMajorFromRelease(release);
  return major === undefined ? undefined : { home, major, source };
}

/** Every Java installation this machine shows: the named homes, `java` on PATH, the usual directories. */
export async function javaCandidates(env: NodeJS.ProcessEnv = process.env): Promise<JavaHome[]> {
  const found: (JavaHome | undefined)[] = [];
  for (const name of ['ES_JAVA_HOME', 'JAVA_HOME'] as const) {
    const home = env[name]?.trim();
    if (home) found.push(await javaAt(home, name));
  }
  const onPath = await findExecutable('java');
  if (onPath) {
    // /usr/bin/java -> /etc/alternatives/java -> /usr/lib/jvm/java-17-openjdk-amd64/bin/java
    const real = await realpath(onPath).catch(() => undefined);
    if (real) found.push(await javaAt(dirname(dirname(real)), 'PATH'));
  }
  for (const dir of JVM_DIRS) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.sort()) found.push(await javaAt(join(dir, name), dir));
  }
  return found.filter((j): j is JavaHome => j !== undefined);
}

/** The Java to use (see `chooseJava`), or undefined when none of at least `minMajor` is installed. */
export async function findJava(
  minMajor: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<JavaHome | undefined> {
  return chooseJava(await javaCandidates(env), minMajor);
}
