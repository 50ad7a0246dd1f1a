/**
 * The long fuzz pass: `npm run fuzz -- [--runs N] [--seed S] [--target NAME ...] [--jobs J] [--no-record]`
 *
 * Runs every target of test/fuzz/targets (or the named ones) on N inputs each (default one
 * million), one child process per target, J at a time (default: the number of CPUs). The seed is
 * fresh each time unless given, and printed, with the inputs, seconds and findings per target.
 *
 * A finding is shrunk by fast-check and recorded (unless --no-record) as a case in
 * test/fixtures/fuzz/<target>.json, which the unit tests replay: the replay fails until the bug
 * is fixed and guards it afterwards. `FUZZ_SEED=S FUZZ_RUNS=N npx vitest run test/unit/fuzz-...`
 * replays a whole pass in the test runner instead.
 *
 * Time bound: each input's check must finish within 100 ms (see test/fuzz/harness.ts). A hang,
 * which a synchronous loop cannot report itself, is caught by a watchdog thread in the child:
 * when no input has finished for HANG_SECONDS it names the input's index and kills the child;
 * this process then regenerates that input from the seed and records it.
 */

import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { boundedCheck, type FuzzTarget, recordCase } from '../test/fuzz/harness.js';
import { body } from '../test/fuzz/targets/body.js';
import { dockerFrames } from '../test/fuzz/targets/docker-frames.js';
import { query } from '../test/fuzz/targets/query.js';
import { syslogFraming } from '../test/fuzz/targets/syslog-framing.js';
import { syslogParse } from '../test/fuzz/targets/syslog-parse.js';
import { transformChain } from '../test/fuzz/targets/transform-chain.js';

// biome-ignore lint/suspicious/noExplicitAny: targets differ in their input type
const TARGETS: ReadonlyArray<FuzzTarget<any>> = [
  syslogFraming,
  syslogParse,
  dockerFrames,
  body,
  transformChain,
  query,
];

/** No input finished for this long: a hang (the slowest legitimate check, shrinking included, takes a second or two). */
const HANG_SECONDS = Number(process.env.FUZZ_HANG_SECONDS ?? 60);
const PROGRESS_EVERY = 100_000;

interface Options {
  runs: number;
  seed: number;
  targets: string[];
  jobs: number;
  record: boolean;
  child: string | null;
}

interface Result {
  target: string;
  seed: number;
  runs: number;
  seconds: number;
  failed: boolean;
  hang?: { index: number };
  error?: string;
  path?: string;
  /** The finding was added to test/fixtures/fuzz/<target>.json. */
  recorded?: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    runs: 1_000_000,
    seed: Math.floor(Math.random() * 0x7fffffff),
    targets: [],
    jobs: availableParallelism(),
    record: true,
    child: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') o.runs = Number(value());
    else if (a === '--seed') o.seed = Number(value());
    else if (a === '--target') o.targets.push(value());
    else if (a === '--jobs') o.jobs = Number(value());
    else if (a === '--no-record') o.record = false;
    else if (a === '--child') o.child = value();
    else
      throw new Error(
        `unknown argument ${a}; usage: npm run fuzz -- [--runs N] [--seed S] [--target NAME ...] [--jobs J] [--no-record]`,
      );
  }
  const known = TARGETS.map((t) => t.name);
  for (const t of o.targets)
    if (!known.includes(t)) throw new Error(`unknown target ${t}; known: ${known.join(', ')}`);
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error('--runs must be a positive integer');
  if (!Number.isInteger(o.seed)) throw new Error('--seed must be an integer');
  return o;
}

function targetNamed(name: string): FuzzTarget<unknown> {
  const t = TARGETS.find((x) => x.name === name);
  if (t === undefined) throw new Error(`unknown target ${name}`);
  return t;
}

// ---- child: one target --------------------------------------------------------------------

/** Plain JavaScript (no TypeScript loader in a worker): watches the run counter, kills the process on a hang. */
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const counter = new Int32Array(workerData.sab);
let last = -1, since = Date.now();
setInterval(() => {
  const now = Atomics.load(counter, 0);
  if (now !== last) { last = now; since = Date.now(); return; }
  if (Date.now() - since >= workerData.hangMs) {
    writeSync(1, JSON.stringify({ hang: { index: now - 1 } }) + '\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}, 1000);
`;

function runChild(o: Options, name: string): void {
  const target = targetNamed(name);
  const sab = new SharedArrayBuffer(4);
  const counter = new Int32Array(sab);
  const watchdog = new Worker(WATCHDOG, { eval: true, workerData: { sab, hangMs: HANG_SECONDS * 1000 } });
  watchdog.unref();
  const started = performance.now();
  let calls = 0;
  const details = fc.check(
    fc.property(target.arbitrary, (input) => {
      // Call k (from 1) is run k - 1 while no failure is being shrunk: what the watchdog reports.
      Atomics.store(counter, 0, ++calls);
      if (calls % PROGRESS_EVERY === 0) {
        const s = (performance.now() - started) / 1000;
        process.stderr.write(`  ${name}: ${calls} inputs, ${s.toFixed(0)} s, ${Math.round(calls / s)}/s\n`);
      }
      boundedCheck(target, input);
    }),
    { seed: o.seed, numRuns: o.runs },
  );
  const result: Result = {
    target: name,
    seed: o.seed,
    runs: details.numRuns,
    seconds: (performance.now() - started) / 1000,
    failed: details.failed,
  };
  if (details.failed && details.counterexample !== null) {
    const err = details.errorInstance;
    result.error = err instanceof Error ? err.message.slice(0, 2000) : String(err);
    result.path = details.counterexamplePath ?? undefined;
    if (o.record) {
      recordCase(
        target,
        details.counterexample[0],
        result.error,
        `npm run fuzz, seed ${o.seed}, path ${result.path}`,
      );
      result.recorded = true;
    }
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  void watchdog.terminate();
}

// ---- parent: all targets ------------------------------------------------------------------

/** The input of run `index` of a seed, regenerated without checking it (for a hang report). */
function inputAt(target: FuzzTarget<unknown>, seed: number, index: number): unknown {
  let captured: unknown;
  fc.check(
    fc.property(target.arbitrary, (input) => {
      captured = input;
    }),
    { seed, path: String(index), numRuns: 1 },
  );
  return captured;
}

function spawnTarget(o: Options, name: string): Promise<Result> {
  const script = fileURLToPath(import.meta.url);
  const args = [
    ...process.execArgv,
    script,
    '--child',
    name,
    '--runs',
    String(o.runs),
    '--seed',
    String(o.seed),
  ];
  if (!o.record) args.push('--no-record');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const lines = out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'));
      const last = lines.length > 0 ? (JSON.parse(lines[lines.length - 1]!) as Partial<Result>) : {};
      const seconds = (performance.now() - started) / 1000;
      if (last.hang !== undefined) {
        const target = targetNamed(name);
        const error = `hang: no input finished for ${HANG_SECONDS} s (input ${last.hang.index})`;
        if (o.record)
          recordCase(
            target,
            inputAt(target, o.seed, last.hang.index),
            error,
            `npm run fuzz, seed ${o.seed}, run ${last.hang.index}`,
          );
        resolve({
          target: name,
          seed: o.seed,
          runs: last.hang.index + 1,
          seconds,
          failed: true,
          hang: last.hang,
          error,
          recorded: o.record,
        });
      } else if (last.target === name) {
        resolve(last as Result);
      } else {
        resolve({
          target: name,
          seed: o.seed,
          runs: 0,
          seconds,
          failed: true,
          error: `child exited with ${code ?? signal} without a result`,
        });
      }
    });
  });
}

async function runAll(o: Options): Promise<number> {
  const names = o.targets.length > 0 ? o.targets : TARGETS.map((t) => t.name);
  console.log(
    `fuzz: seed ${o.seed}, ${o.runs} inputs per target, ${names.length} targets, ${o.jobs} at a time`,
  );
  const queue = [...names];
  const results: Result[] = [];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const r = await spawnTarget(o, name);
      results.push(r);
      console.log(
        `${r.failed ? 'FAIL' : 'ok  '} ${r.target}: ${r.runs} inputs in ${r.seconds.toFixed(1)} s${r.failed ? `: ${r.error}${r.path ? ` (path ${r.path})` : ''}` : ''}`,
      );
      if (r.recorded)
        console.log(
          `     recorded in test/fixtures/fuzz/${r.target}.json (replay: npx vitest run --project unit test/unit/fuzz-*.test.ts)`,
        );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.jobs, names.length)) }, worker));

  console.log('\ntarget            inputs      seconds   inputs/s  findings');
  for (const r of results.sort((a, b) => names.indexOf(a.target) - names.indexOf(b.target))) {
    const rate = r.seconds > 0 ? Math.round(r.runs / r.seconds) : 0;
    console.log(
      `${r.target.padEnd(16)}  ${String(r.runs).padStart(9)}  ${r.seconds.toFixed(1).padStart(9)}  ${String(rate).padStart(9)}  ${r.failed ? 1 : 0}`,
    );
  }
  console.log(
    `seed ${o.seed}; replay one target: npm run fuzz -- --seed ${o.seed} --runs ${o.runs} --target NAME`,
  );
  return results.some((r) => r.failed) ? 1 : 0;
}

const options = parseArgs(process.argv.slice(2));
if (options.child !== null) runChild(options, options.child);
else process.exitCode = await runAll(options);
