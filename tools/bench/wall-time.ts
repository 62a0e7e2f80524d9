/**
 * Benchmark: the time table of issue 14's target. Wall time of `identify` (defaults, refinement on,
 * widths given, 2 threads) on the issue's four reference networks, against the vectorized
 * numpy/scipy implementation of the pipeline with LM refinement (its seconds where they were
 * measured on this machine, issue 4; issue 14's author measured nnid/numpy = 0.2, 0.7, 1.4-1.8, 0.2
 * on a quiet machine), and beside it the student fit (@nnid/student-fit, `nnid identify --method
 * fit`): best of 3 starts on 5 P Gaussian answers, 2 worker threads. Both scored on 10^4 fresh
 * points (exact = relative L2 <= 1e-8, the larger of the sphere and Gaussian errors for identify,
 * Gaussian for the fit). CPU seconds (process.cpuUsage: every thread) are printed beside wall seconds.
 * Writes the `## Wall time against the numpy reference (issues 4 and 14)` section of BENCHMARKS.md.
 *
 *   npx tsx tools/bench/wall-time.ts [--seeds 3] [--first 0] [--threads 2] [--no-fit] [--points 1,2,3,4] [--no-write]
 *
 * --first N: the seeds N+1 .. N+seeds (held-out networks; the section's text then names them).
 *
 * Never fails on a figure.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { machineLine, writeBenchmarkSection } from './benchmarks-md.ts';
import { type ActivationName } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { runExperiment } from '@nnid/pipeline';
import { baselineFit } from '@nnid/student-fit';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    first: { type: 'string', default: '0' },
    threads: { type: 'string', default: '2' },
    points: { type: 'string', default: '1,2,3,4' },
    'no-fit': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
});
const first = Math.max(0, Number(values.first));
const seeds = Array.from({ length: Math.max(1, Number(values.seeds)) }, (_, i) => first + i + 1);
const threads = Math.max(1, Number(values.threads));

interface Point {
  d: number;
  m0: number;
  m1: number;
  act: [ActivationName, ActivationName];
  shiftStd: number;
  perturb: number;
  /** numpy/scipy seconds measured on this machine (issue 4), or null. */
  numpy: number | null;
  numpyNote: string;
  /** issue 14's nnid/numpy on a quiet machine. */
  issueRatio: string;
}

const POINTS: Point[] = [
  { d: 20, m0: 10, m1: 3, act: ['tanh', 'tanh'], shiftStd: 0.3, perturb: 0, numpy: 1.3, numpyNote: 'exact, ~1.3 s, 3.5k queries', issueRatio: '0.2' },
  { d: 30, m0: 20, m1: 8, act: ['sigmoid', 'sigmoid'], shiftStd: 1, perturb: 0, numpy: 32, numpyNote: 'stopped after 32 s at relative L2 7e-5 (not exact)', issueRatio: '0.7' },
  { d: 50, m0: 30, m1: 10, act: ['tanh', 'tanh'], shiftStd: 0.3, perturb: 0.3, numpy: null, numpyNote: 'not measured here with A perturbed (~7.7 s, 50k queries with A orthonormal)', issueRatio: '1.4-1.8' },
  { d: 40, m0: 15, m1: 5, act: ['tanh', 'sigmoid'], shiftStd: 0.3, perturb: 0, numpy: null, numpyNote: 'not measured here', issueRatio: '0.2' },
];
const label = (p: Point) => `(${p.d}, ${p.m0}, ${p.m1}) ${p.act[0] === p.act[1] ? p.act[0] : `${p.act[0]}/${p.act[1]}`} N(0, ${p.shiftStd}^2)${p.perturb > 0 ? `, A perturbed ${p.perturb}` : ''}`;
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const loadBefore = loadavg();
const began = performance.now();
const rows: string[] = [];
const summary: string[] = [];
for (const index of values.points.split(',').map(Number)) {
  const p = POINTS[index - 1];
  const nnidSeconds: number[] = [];
  const fitSeconds: number[] = [];
  let nnidExact = 0;
  let fitExact = 0;
  for (const seed of seeds) {
    const spec = { inputDim: p.d, width1: p.m0, width2: p.m1, activation: { layer1: p.act[0], layer2: p.act[1] }, shiftStd: p.shiftStd, perturb: p.perturb, noise: 0, seed, threads };
    const cpu0 = cpu();
    const r = await runExperiment(spec, { scorePoints: 10_000 });
    const nnidCpu = cpu() - cpu0;
    const final = r.after ?? r.before;
    const l2 = final ? Math.max(final.function.sphere.relativeL2, final.function.gaussian.relativeL2) : NaN;
    const q = r.queries as { total: number; multipleOfP: number };
    const seconds = r.seconds.total ?? NaN;
    nnidSeconds.push(seconds);
    if (r.exact) nnidExact++;
    const result = r.error ? `error: ${r.error}` : `${r.exact ? 'exact' : 'not exact'} (L2 ${l2.toExponential(1)}; check ${r.checkPassed ? 'passed' : 'failed'}; ${r.attempts} attempt${r.attempts === 1 ? '' : 's'})`;
    let fitCell = 'not run (--no-fit)';
    if (!values['no-fit']) {
      const truth = randomNetwork({ inputDim: p.d, width1: p.m0, width2: p.m1, activation: { layer1: p.act[0], layer2: p.act[1] }, shiftStd: p.shiftStd, orthogonalityPerturbation: p.perturb, seed });
      const cpu1 = cpu();
      const b = await baselineFit(truth, { budget: 5, starts: 3, seed, threads });
      const fitCpu = cpu() - cpu1;
      fitSeconds.push(b.seconds);
      if (b.exact) fitExact++;
      fitCell = `${b.exact ? 'exact' : 'not exact'} (L2 ${(b.relativeL2 as number).toExponential(1)}; ${b.starts} start${b.starts === 1 ? '' : 's'}) | ${b.seconds.toFixed(2)} (CPU ${fitCpu.toFixed(1)})`;
    }
    const ratio = p.numpy !== null ? (seconds / p.numpy).toFixed(2) : '-';
    const refineSeconds = r.seconds.refine ?? 0;
    const line = `| ${label(p)} | ${seed} | ${result} | ${seconds.toFixed(2)} (CPU ${nnidCpu.toFixed(1)}; refinement ${refineSeconds.toFixed(1)}) | ${q.total} (${q.multipleOfP.toFixed(1)} P) | ${ratio} | ${fitCell} |`;
    console.log(line);
    rows.push(line);
  }
  const med = median(nnidSeconds);
  summary.push(
    `| ${label(p)} | ${nnidExact}/${seeds.length}, ${med.toFixed(2)} | ${p.numpyNote} | ${p.numpy !== null ? `${(med / p.numpy).toFixed(2)} (target <= 0.5)` : '-'} | ${p.issueRatio} | ${values['no-fit'] ? '-' : `${fitExact}/${seeds.length}, ${median(fitSeconds).toFixed(2)}`} |`,
  );
}
const loadAfter = loadavg();
const minutes = (performance.now() - began) / 60_000;
const section = [
  'The time table of issue 14: `identify` with its defaults (refinement on, widths given, `threads: ' + threads + '`), one run at a time, against',
  "the issue's vectorized numpy/scipy implementation of the pipeline with LM refinement, and the student fit",
  '(`baselineFit`: best of 3 starts on 5 P Gaussian answers, 2 worker threads; what `nnid identify --method fit` runs) on the same',
  'networks (nnid\'s generator, seeds ' + seeds[0] + '-' + seeds[seeds.length - 1] + '). Exact = relative L2 <= 1e-8 on 10^4 fresh points. Seconds are wall time of the whole call',
  '(CPU seconds of every thread beside them: under load the wall seconds are inflated, the CPU seconds much less; "refinement":',
  "the refine stage's seconds, summed over attempts, lanes included). The numpy/scipy implementation is not in the repository:",
  "its seconds are issue 4's, measured on this machine, and issue 14's ratios.",
  '',
  '| network | nnid exact, median s | numpy/scipy on this machine (issue 4) | nnid / numpy (median) | issue 14: nnid / numpy, quiet machine | fit best-of-3 at 5 P: exact, median s |',
  '|---|---|---|---|---|---|',
  ...summary,
  '',
  '| network | seed | nnid result | nnid s | nnid queries | nnid / numpy | fit result | fit s |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
  machineLine(loadBefore, loadAfter),
  `Run: \`npx tsx tools/bench/wall-time.ts --seeds ${seeds.length}${first > 0 ? ` --first ${first}` : ''} --threads ${threads}${values['no-fit'] ? ' --no-fit' : ''}${values.points !== '1,2,3,4' ? ` --points ${values.points}` : ''}\` (${new Date().toISOString().slice(0, 10)}; ${minutes.toFixed(0)} min).`,
].join('\n');
console.log('\n' + section);
if (!values['no-write']) writeBenchmarkSection('## Wall time against the numpy reference (issues 4 and 14)', section);
