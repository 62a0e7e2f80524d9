/**
 * Benchmark: wall time of `identify` (defaults, refinement on) on the issue-4 reference points,
 * against a vectorized numpy/scipy implementation measured on this machine: exact in ~1.3 s at
 * (20, 10, 3) tanh (3.5k queries), ~7.7 s at (50, 30, 10) tanh (50k queries), and stopped after
 * 32 s at relative L2 7e-5 (not exact) on a sigmoid (30, 20, 8) network with N(0, 1) shifts.
 * Prints time per stage, queries, and whether the run is exact; writes the
 * `## Wall time against the numpy reference (issue 4)` section of BENCHMARKS.md.
 *
 *   npx tsx tools/bench/wall-time.ts [--seeds 3] [--threads 2] [--no-write]
 *
 * Never fails on a figure.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { machineLine, writeBenchmarkSection } from './benchmarks-md.ts';
import { type ActivationName } from '@nnid/core';
import { runExperiment } from '@nnid/pipeline';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    'no-write': { type: 'boolean', default: false },
  },
});
const seeds = Array.from({ length: Math.max(1, Number(values.seeds)) }, (_, i) => i + 1);
const threads = Math.max(1, Number(values.threads));

const POINTS: { d: number; m0: number; m1: number; act: ActivationName; shiftStd: number; reference: string }[] = [
  { d: 20, m0: 10, m1: 3, act: 'tanh', shiftStd: 0.3, reference: 'exact, ~1.3 s, 3.5k queries' },
  { d: 50, m0: 30, m1: 10, act: 'tanh', shiftStd: 0.3, reference: 'exact, ~7.7 s, 50k queries' },
  { d: 30, m0: 20, m1: 8, act: 'sigmoid', shiftStd: 1, reference: 'not exact: stopped after 32 s at relative L2 7e-5' },
];
const STAGES = ['noise', 'gradients', 'hessians', 'subspace', 'rankOne', 'completion', 'entangled', 'shifts', 'refine'];

const loadBefore = loadavg();
const rows: string[] = [];
for (const p of POINTS) {
  for (const seed of seeds) {
    // one experiment: identify (timed by its own report) and score against the truth
    const r = await runExperiment(
      { inputDim: p.d, width1: p.m0, width2: p.m1, activation: { layer1: p.act, layer2: p.act }, shiftStd: p.shiftStd, noise: 0, seed, threads },
      { scorePoints: 10_000 },
    );
    const final = r.after ?? r.before;
    const l2 = final ? Math.max(final.function.sphere.relativeL2, final.function.gaussian.relativeL2) : NaN;
    const q = r.queries as { total: number; multipleOfP: number };
    const stages = STAGES.map((k) => `${k} ${(r.seconds[k] ?? 0).toFixed(2)}`).join(', ');
    const result = r.error ? `error: ${r.error}` : `${r.exact ? 'exact' : 'not exact'} (relative L2 ${l2.toExponential(1)}; check ${r.checkPassed ? 'passed' : 'failed'})`;
    const line = `| (${p.d}, ${p.m0}, ${p.m1}) ${p.act} N(0, ${p.shiftStd}^2) | ${seed} | ${p.reference} | ${result} | ${(r.seconds.total ?? NaN).toFixed(2)} | ${stages} | ${q.total} (${q.multipleOfP.toFixed(1)} P) | ${r.attempts} |`;
    console.log(line);
    rows.push(line);
  }
}
const loadAfter = loadavg();
const section = [
  `identify with its defaults (refinement on, widths given, \`threads: ${threads}\`), one run at a time; seconds are wall time of`,
  'the whole call and per stage from its report. Reference: the issue\'s vectorized numpy/scipy implementation with LM refinement on this machine.',
  '',
  '| network | seed | numpy/scipy reference | nnid result | seconds | seconds per stage | queries | attempts |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  machineLine(loadBefore, loadAfter),
  `Run: \`npx tsx tools/bench/wall-time.ts --seeds ${seeds.length} --threads ${threads}\` (${new Date().toISOString().slice(0, 10)}).`,
].join('\n');
if (!values['no-write']) writeBenchmarkSection('## Wall time against the numpy reference (issue 4)', section);
