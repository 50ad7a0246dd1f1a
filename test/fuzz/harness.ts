/**
 * The fuzz harness: a target is an arbitrary (random and mutated inputs, seeded from the real
 * fixtures) and a `check` that throws when one input breaks an invariant. The same targets run
 * in three ways:
 *
 * - the short seeded pass in `npm test` (test/unit/fuzz-*.test.ts, `runShortPass`): a fixed
 *   seed and a few thousand inputs per target, so a run is repeatable;
 * - the long pass, `npm run fuzz` (scripts/fuzz.ts): a million inputs or more per target, a
 *   fresh seed each time (printed), every finding recorded as a fixture;
 * - the replay of those fixtures (test/fixtures/fuzz/<target>.json) in the same test files,
 *   so every crash ever found stays a regression test.
 *
 * The time bound: `check` is one input's whole check (the target called once or a few times on
 * the same input, plus the invariants). It must finish within TIME_BOUND_MS of CPU time (user
 * and system, of the process). CPU time, not wall-clock time: these machines run several
 * engineers' tests at once (load averages of 5 to 10 on 2 cores), and waiting for a core is not
 * the parser's cost. What remains (a GC pause, a cold cache) is noise that an input over the
 * bound is measured again for, up to TIME_ATTEMPTS times; it fails only if every run was over
 * it: a real super-linear input is slow every time, a hiccup is not. Inputs are at most 64 KiB
 * (MAX_INPUT_BYTES in mutate.ts), whose whole check costs the linear parsers a few milliseconds;
 * 100 ms is far beyond that and far below what a stalled pipeline would notice. The quadratic
 * scans found so far took 36 ms (4.5 KB) to 1.6 s (48 KB). A true hang (an endless loop) is
 * caught by the long pass's watchdog (scripts/fuzz.ts), not here: a synchronous loop cannot be
 * interrupted from its own thread.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';

export const TIME_BOUND_MS = 100;
export const TIME_ATTEMPTS = 5;

export interface FuzzTarget<T> {
  /** Also the fixture file name: test/fixtures/fuzz/<name>.json. */
  readonly name: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /** Throws when `input` breaks an invariant; the message says which. Under the time bound. */
  check(input: T): void;
  /**
   * More invariants whose cost is not the target's (running a translated query in SQLite): not
   * under the time bound, run after `check` passed.
   */
  untimedCheck?(input: T): void;
  /** To and from the JSON stored in a fixture (Buffers as base64, say). */
  toJson(input: T): unknown;
  fromJson(json: unknown): T;
}

/** One fixture case: an input that broke an invariant once, and what it broke. */
export interface FuzzCase {
  input: unknown;
  broke: string;
  found: string;
}

export interface FuzzFixture {
  target: string;
  cases: FuzzCase[];
}

/** Fails with `what` when `cond` is false (node:assert would print the whole input). */
export function invariant(cond: unknown, what: string | (() => string)): asserts cond {
  if (!cond) throw new InvariantError(typeof what === 'string' ? what : what());
}

/** Fails unless `value` is an integer in [min, max]: severities, facilities, codes. */
export function inRange(what: string, value: number, min: number, max: number): void {
  invariant(
    Number.isInteger(value) && value >= min && value <= max,
    () => `${what} ${value} is not in ${min}..${max}`,
  );
}

/** A target whose inputs are plain JSON values already (strings, records of them): stored as they are. */
export function jsonTarget<T>(t: Omit<FuzzTarget<T>, 'toJson' | 'fromJson'>): FuzzTarget<T> {
  return { ...t, toJson: (x) => x, fromJson: (j) => j as T };
}

export class InvariantError extends Error {
  override name = 'InvariantError';
}

/** Runs `check(input)` under the time bound (see the module comment); throws what it throws. */
export function boundedCheck<T>(target: FuzzTarget<T>, input: T, boundMs = TIME_BOUND_MS): void {
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < TIME_ATTEMPTS; attempt++) {
    const started = process.cpuUsage();
    target.check(input);
    const used = process.cpuUsage(started);
    best = Math.min(best, (used.user + used.system) / 1000);
    if (best <= boundMs) {
      target.untimedCheck?.(input);
      return;
    }
  }
  throw new InvariantError(
    `took ${best.toFixed(1)} ms of CPU or more on each of ${TIME_ATTEMPTS} runs (bound ${boundMs} ms)`,
  );
}

/** The short pass's seed: fixed, so `npm test` sees the same inputs every time. */
export const SHORT_PASS_SEED = 20_261_127;

/**
 * Runs `numRuns` inputs of `target` with a fixed seed; throws fast-check's report (the shrunk
 * counterexample, and the seed and path that replay it) on the first failure.
 * FUZZ_RUNS and FUZZ_SEED override the count and seed, to replay a report locally.
 */
export function runShortPass<T>(target: FuzzTarget<T>, numRuns: number): void {
  const runs = Number(process.env.FUZZ_RUNS ?? numRuns);
  const seed = Number(process.env.FUZZ_SEED ?? SHORT_PASS_SEED);
  fc.assert(
    fc.property(target.arbitrary, (input) => boundedCheck(target, input)),
    { seed, numRuns: runs },
  );
}

export function fixturePath(name: string): URL {
  return new URL(`../fixtures/fuzz/${name}.json`, import.meta.url);
}

/** The recorded cases of a target; none when it has no fixture file yet. */
export function loadFixture(name: string): FuzzCase[] {
  let text: string;
  try {
    text = readFileSync(fixturePath(name), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const fixture = JSON.parse(text) as FuzzFixture;
  if (fixture.target !== name) throw new Error(`fixture for ${fixture.target} stored as ${name}.json`);
  return fixture.cases;
}

/** Replays every recorded case of `target`; throws on the first that still breaks an invariant. */
export function replayFixtures<T>(target: FuzzTarget<T>): number {
  const cases = loadFixture(target.name);
  cases.forEach((c, i) => {
    try {
      boundedCheck(target, target.fromJson(c.input));
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(`${target.name} fixture case ${i} (${c.broke}) fails again: ${why}`, { cause: err });
    }
  });
  return cases.length;
}

/**
 * Adds a case to the target's fixture file (creating it): what the long pass does with each
 * finding, so that the replay test fails until the bug is fixed and guards it afterwards.
 */
export function recordCase<T>(target: FuzzTarget<T>, input: T, broke: string, found: string): void {
  const cases = loadFixture(target.name);
  cases.push({ input: target.toJson(input), broke, found });
  const fixture: FuzzFixture = { target: target.name, cases };
  writeFileSync(fixturePath(target.name), `${JSON.stringify(fixture, null, 2)}\n`);
}

/** The shrunk counterexample of a fast-check run with a known seed and path (from its report). */
export function counterexample<T>(
  target: FuzzTarget<T>,
  seed: number,
  path: string,
): { input: T; error: string } {
  const details = fc.check(
    fc.property(target.arbitrary, (input) => boundedCheck(target, input)),
    { seed, path, endOnFailure: true },
  );
  if (!details.failed || details.counterexample === null)
    throw new Error(`seed ${seed} path ${path} does not fail`);
  const error =
    details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  return { input: details.counterexample[0], error };
}
