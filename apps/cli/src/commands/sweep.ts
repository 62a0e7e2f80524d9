/**
 * `nnid sweep`: identify over a grid of (d, m0, m1, activation, shift spread, noise, perturbation)
 * and seeds. One JSON line per run (fsynced as it ends), a summary table at the end; rerunning
 * the same command skips the runs already in the file. A run whose worker crashes is written as
 * it crashes too (`crashed: true`, see sweep/records.ts) and run again by the next rerun.
 *
 * Parallelism: one run per worker thread (Piscina), each run single-threaded inside. The stages
 * have long serial parts (shift fit, Levenberg–Marquardt, the orchestration), so whole runs in
 * parallel keep every core busy where parallel stages would leave them idle; results do not
 * depend on the thread count either way.
 */
import { availableParallelism } from 'node:os';
import { type ActivationName } from '@nnid/core';
import { experimentId, type ExperimentRecord, type ExperimentSpec } from '@nnid/pipeline';
import { Piscina } from 'piscina';
import { intOption, stringOption, UsageError, type Command, type CommandIo, type Values } from '../cli.ts';
import { progressBar } from '../progress.ts';
import { crashRecord, ForeignFileError, isCrash, readRecords, RecordWriteError, RecordWriter, type SweepRecord } from '../sweep/records.ts';
import { checkMemory, checkOutputs, writeOutput } from '../files.ts';
import { checkNetworkSize, generateNetwork, parseActivation } from './generate.ts';
import { summaryTable } from '../sweep/summary.ts';
import { checkReachable, enqueueAndFollow, parseQueueUrl, type QueueTarget } from '../sweep/queue.ts';

const DEFAULT_SIZES = '10x10x3,20x20x5,30x20x10,50x30x10';
/** The most runs one sweep command takes (each is a whole identify). */
export const MAX_RUNS = 100_000;

const help = `usage: nnid sweep [grid options] [--out sweep.jsonl] [--summary summary.md]

Runs nnid identify on random networks (as in the paper) over a grid and seeds. Writes one JSON
line per run to --out as each run ends (all figures of docs/DESIGN.md section 5 before and after
refinement, queries and time per stage), then prints a summary table. Rerunning the same command
skips the runs already in --out; a sweep killed midway loses nothing already written. A run whose
worker crashes is written at once with "crashed": true and its error (and named on stderr); it
is no result, so a rerun runs it again. Exit code 1 when a run crashed or ended in an error.

grid (comma-separated lists; every combination is run):
  --sizes LIST         d x m0 x m1 triples (default ${DEFAULT_SIZES})
  --activations LIST   tanh, sigmoid (both layers), or layer1/layer2 pairs such as tanh/sigmoid
                       (default tanh,sigmoid: two grid points)
  --shift-stds LIST    std of the shifts theta, tau (default 0.3,1)
  --noises LIST        std of the oracle's Gaussian noise (default 0)
  --perturbs LIST      move A away from orthogonality by this much (default 0)
  --query-targets LIST the total queries identify sizes its Hessian stage for, in multiples of P
                       (default 20). A target, not a cap: the Hessians get what the target leaves
                       after the gradients, shift fit and refinement (at least m0 + m1 + 2 of them),
                       and a retry after a failed check adds queries
  --seeds LIST         seeds, as a list and/or ranges: 1-5 or 1,2,7 (default 1-5)

options:
  --out FILE           results, one JSON line per run (default sweep.jsonl): a new file or one this
                       command wrote; any other file is refused and left as it is
  --summary FILE       also write the summary table (markdown) to FILE
  --workers N          runs in parallel, one per worker thread (default: the number of cores)
  --no-refine          the paper's pipeline alone
  --widths auto        let identify read m0, m1 from the spectrum (default: given)
  --score-points N     test points per distribution for the function errors (default 10000)
  --report-only        run nothing: print the summary of the grid's runs already in --out
  --queue URL          run on many machines: enqueue the runs not yet in --out as jobs on Redis
                       (redis://[user:password@]HOST[:PORT][/DB]; BullMQ, job id = run id, so
                       enqueuing twice adds nothing), then follow them, writing each run's line
                       to --out as \`nnid worker --queue URL\` processes anywhere return it.
                       --workers does not apply; the same results file as without --queue
  --no-wait            with --queue: enqueue and return (rerun the command to collect the results)
  -h, --help           this help

example:
  nnid sweep --sizes 20x10x3 --activations tanh --shift-stds 0.3 --seeds 1-3 --out runs.jsonl
  nnid sweep --sizes 20x10x3 --seeds 1-100 --queue redis://10.0.0.5:6379/0 --out runs.jsonl`;

function list(values: Values, name: string, fallback: string): string[] {
  const raw = stringOption(values, name, fallback);
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new UsageError(`--${name} must not be empty`);
  return items;
}

function numbers(values: Values, name: string, fallback: string, min: number): number[] {
  return list(values, name, fallback).map((s) => {
    const x = Number(s);
    if (!Number.isFinite(x) || x < min) throw new UsageError(`--${name}: '${s}' is not a number >= ${min}`);
    return x;
  });
}

export function parseSizes(items: string[]): [number, number, number][] {
  return items.map((s) => {
    const parts = s.split('x').map(Number);
    if (parts.length !== 3 || !parts.every((x) => Number.isInteger(x) && x >= 1)) {
      throw new UsageError(`--sizes: '${s}' is not d x m0 x m1 such as 20x10x3`);
    }
    const [d, m0, m1] = parts;
    if (m0 > d || m1 > m0) throw new UsageError(`--sizes: '${s}' needs m1 <= m0 <= d`);
    return [d, m0, m1];
  });
}

export function parseSeeds(items: string[]): number[] {
  const seeds = new Set<number>();
  for (const s of items) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(s);
    if (!m) throw new UsageError(`--seeds: '${s}' is not a seed or a range such as 1-5`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) throw new UsageError(`--seeds: '${s}' has a seed above ${Number.MAX_SAFE_INTEGER}`);
    if (b < a) throw new UsageError(`--seeds: '${s}' is an empty range`);
    if (b - a + 1 + seeds.size > MAX_RUNS) throw new UsageError(`--seeds: '${s}' makes more than ${MAX_RUNS} seeds (a sweep runs at most ${MAX_RUNS} runs)`);
    for (let k = a; k <= b; k++) seeds.add(k);
  }
  return [...seeds];
}

/**
 * Memory of one identify run at (d, m0, m1), roughly: the Hessian stack (up to 2 (m0 + m1)
 * Hessians of (m0 + 1)(m0 + 2) / 2 packed entries in range(A)'s coordinates) and its copies in the
 * subspace stage, and the refinement's Jacobian (about 3 P rows of P numbers) and normal matrix (P x P).
 */
export function identifyBytes(d: number, m0: number, m1: number): { bytes: number; largest: number } {
  const P = d * m0 + m0 + m0 * m1 + m1;
  const stack = 2 * (m0 + m1) * (((m0 + 1) * (m0 + 2)) / 2);
  const jacobian = 3 * P * P;
  return { bytes: 8 * (3 * stack + jacobian + P * P), largest: Math.max(stack, jacobian) };
}

function parseActivations(items: string[]): { layer1: ActivationName; layer2: ActivationName }[] {
  return items.map((s) => parseActivation(s, '--activations'));
}

/** Every run of the grid, in a stable order. */
export function gridSpecs(values: Values): ExperimentSpec[] {
  const sizes = parseSizes(list(values, 'sizes', DEFAULT_SIZES));
  const activations = parseActivations(list(values, 'activations', 'tanh,sigmoid'));
  const shifts = numbers(values, 'shift-stds', '0.3,1', 0);
  const noises = numbers(values, 'noises', '0', 0);
  const perturbs = numbers(values, 'perturbs', '0', 0);
  if (values['query-budgets'] !== undefined) {
    throw new UsageError('--query-budgets is now --query-targets: a target identify sizes its Hessian stage for, not a cap on the queries');
  }
  const budgets = values['query-targets'] === undefined ? [null] : numbers(values, 'query-targets', '20', 0);
  for (const b of budgets) if (b !== null && !(b > 0)) throw new UsageError(`--query-targets: '${b}' is not a number > 0`);
  const seeds = parseSeeds(list(values, 'seeds', '1-5'));
  const widths = stringOption(values, 'widths', 'given');
  if (widths !== 'given' && widths !== 'auto') throw new UsageError(`--widths must be given or auto, got '${widths}'`);
  const runs = sizes.length * activations.length * shifts.length * noises.length * perturbs.length * budgets.length * seeds.length;
  if (runs > MAX_RUNS) throw new UsageError(`the grid has ${runs} runs, more than the ${MAX_RUNS} one sweep takes: split it`);
  for (const [d, m0, m1] of sizes) {
    const what = `--sizes ${d}x${m0}x${m1}`;
    checkNetworkSize(what, d, m0, m1);
    const need = identifyBytes(d, m0, m1);
    checkMemory(`${what} (one identify run)`, need.bytes, need.largest);
  }
  // degenerate values (an all-zero A, every unit saturated) refused before any run, on the first
  // seed of each grid point: they depend on the value, not on the seed
  for (const [inputDim, width1, width2] of sizes)
    for (const activation of activations)
      for (const shiftStd of shifts)
        for (const perturb of perturbs) {
          try {
            generateNetwork({ inputDim, width1, width2, activation, shiftStd, orthogonalityPerturbation: perturb, seed: seeds[0] });
          } catch (e) {
            if (!(e instanceof UsageError)) throw e;
            throw new UsageError(`${e.message.replace('--shift-std', '--shift-stds').replace('--perturb', '--perturbs')} (at --sizes ${inputDim}x${width1}x${width2}, seed ${seeds[0]})`);
          }
        }
  const specs: ExperimentSpec[] = [];
  for (const [inputDim, width1, width2] of sizes)
    for (const activation of activations)
      for (const shiftStd of shifts)
        for (const noise of noises)
          for (const perturb of perturbs)
            for (const budget of budgets)
              for (const seed of seeds) {
                const identify = { ...(values['no-refine'] ? { refine: false } : {}), ...(budget !== null ? { queryBudget: budget } : {}) };
                specs.push({
                  inputDim,
                  width1,
                  width2,
                  activation,
                  shiftStd,
                  noise,
                  perturb,
                  seed,
                  ...(widths === 'auto' ? { widthsGiven: false } : {}),
                  ...(Object.keys(identify).length ? { identify } : {}),
                });
              }
  return specs;
}

export interface SweepRunOptions {
  /** The results file (JSONL), appended to. */
  out: string;
  workers: number;
  scorePoints: number;
  /** The worker entry (default sweep/worker.mjs); tests pass one that crashes on purpose. */
  workerUrl?: string;
}

/**
 * Runs the specs, one per worker thread, appending each record to `options.out` (fsynced) as it
 * ends. A crash (the worker's task rejected, or its thread died) is written at once as a
 * `CrashRecord` and named in one line on stderr; the other runs go on.
 */
export async function runSweep(todo: ExperimentSpec[], options: SweepRunOptions, io: CommandIo): Promise<SweepRecord[]> {
  const { out, workers, scorePoints } = options;
  if (!todo.length) return [];
  const writer = new RecordWriter(out);
  const bar = progressBar('sweep');
  const threads = Math.min(workers, todo.length);
  const pool = new Piscina({
    filename: options.workerUrl ?? new URL('../sweep/worker.mjs', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 1000,
  });
  const written: SweepRecord[] = [];
  let ended = 0;
  let crashed = 0;
  try {
    await Promise.all(
      todo.map(async (spec) => {
        let record: SweepRecord;
        try {
          record = (await pool.run({ spec, scorePoints })) as ExperimentRecord;
        } catch (e) {
          record = crashRecord(spec, e);
        }
        writer.append(record);
        written.push(record);
        ended++;
        if (isCrash(record)) {
          crashed++;
          io.err(`sweep: ${record.id} crashed: ${record.error} (written to ${out}; a rerun runs it again)`);
        }
        bar.update(ended, todo.length, `${record.id} ${isCrash(record) ? 'CRASHED' : record.targetMet ? 'ok' : 'MISSED'}`);
      }),
    );
  } finally {
    writer.close();
    await pool.destroy();
  }
  bar.done(`${ended} runs written to ${out}` + (crashed ? ` (${crashed} crashed)` : ''));
  return written;
}

export const command: Command = {
  name: 'sweep',
  summary: 'identify over a grid of sizes, activations, shifts, noise and seeds (resumable)',
  help,
  options: {
    sizes: { type: 'string' },
    activations: { type: 'string' },
    'shift-stds': { type: 'string' },
    noises: { type: 'string' },
    perturbs: { type: 'string' },
    'query-targets': { type: 'string' },
    'query-budgets': { type: 'string' },
    seeds: { type: 'string' },
    out: { type: 'string' },
    summary: { type: 'string' },
    workers: { type: 'string' },
    'no-refine': { type: 'boolean' },
    widths: { type: 'string' },
    'score-points': { type: 'string' },
    'report-only': { type: 'boolean' },
    queue: { type: 'string' },
    'no-wait': { type: 'boolean' },
  },
  async run(values, io) {
    const specs = gridSpecs(values);
    const out = stringOption(values, 'out', 'sweep.jsonl');
    const summaryPath = values.summary as string | undefined;
    const workers = intOption(values, 'workers', availableParallelism());
    if (workers > 1024) throw new UsageError(`--workers must be an integer in [1, 1024], got '${workers}'`);
    const scorePoints = intOption(values, 'score-points', 10_000);
    const target: QueueTarget | null = values.queue === undefined ? null : parseQueueUrl(stringOption(values, 'queue'));
    if (values['no-wait'] && !target) throw new UsageError('--no-wait needs --queue (it enqueues and returns)');
    const widest = Math.max(...specs.map((s) => s.inputDim));
    checkMemory(`--score-points ${scorePoints} at d = ${widest}`, 8 * 2 * scorePoints * (widest + 4) * Math.min(workers, specs.length), scorePoints * widest);
    const ids = specs.map(experimentId);
    if (new Set(ids).size !== ids.length) throw new UsageError('the grid names the same run twice');
    // before any run: both files writable, and not the same file
    // (--report-only only reads --out: it may sit on read-only media)
    const summaryOutput = summaryPath !== undefined ? [{ flag: '--summary', path: summaryPath }] : [];
    if (values['report-only']) checkOutputs(summaryOutput, [{ flag: '--out', path: out }]);
    else checkOutputs([{ flag: '--out', path: out }, ...summaryOutput]);
    let previous: SweepRecord[];
    try {
      previous = readRecords(out);
    } catch (e) {
      if (e instanceof ForeignFileError) throw new UsageError(`--out ${out} is not a results file of nnid sweep (${e.message}); it is left as it is: choose another file`);
      throw e;
    }
    const records = new Map<string, SweepRecord>(previous.map((r) => [r.id, r]));
    // a crash is no result: its run is done again
    const state = ids.map((id) => {
      const r = records.get(id);
      return r === undefined ? 'new' : isCrash(r) ? 'crashed' : 'finished';
    });
    const finished = state.filter((s) => s === 'finished').length;
    const retried = state.filter((s) => s === 'crashed').length;
    const todo = values['report-only'] ? [] : specs.filter((s, i) => state[i] !== 'finished');
    io.out(
      `sweep: ${specs.length} runs in the grid, ${finished} already in ${out}` +
        (retried ? ` (and ${retried} crashed: ${values['report-only'] ? 'not run again with --report-only' : 'run again'})` : '') +
        (target ? `, ${todo.length} to run through ${target.display}` : `, ${todo.length} to run on ${workers} worker(s)`),
    );
    let ran: SweepRecord[];
    try {
      if (target && todo.length) {
        await checkReachable(target);
        const crashed = new Set(ids.filter((_, i) => state[i] === 'crashed'));
        ran = (await enqueueAndFollow(todo, { target, out, scorePoints, wait: !values['no-wait'], crashed }, io)).written;
      } else ran = await runSweep(todo, { out, workers, scorePoints }, io);
    } catch (e) {
      if (e instanceof RecordWriteError) throw new UsageError(e.message);
      throw e;
    }
    for (const r of ran) records.set(r.id, r);
    const inGrid = ids.map((id) => records.get(id)).filter((r): r is SweepRecord => r !== undefined);
    const table = summaryTable(inGrid);
    for (const line of table) io.out(line);
    if (summaryPath) writeOutput({ flag: '--summary', path: summaryPath }, table.join('\n') + '\n');
    return inGrid.every((r) => !r.error) ? 0 : 1;
  },
};
