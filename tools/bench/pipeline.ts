/**
 * Benchmark: the paper's pipeline (identify with refine OFF) on random tanh networks over
 * (d, m0, m1) in {(10,10,3), (20,20,5), (30,20,10), (50,30,10)}, five seeds each. Prints and
 * writes the `## Identification (paper pipeline)` section of BENCHMARKS.md: share of a_i and v_l
 * with |cos| >= 0.999, median |cos|, function errors (relative L2 on the unit sphere and under
 * N(0, I), 10^4 points each), queries (absolute and / P), seconds per stage, threads. With
 * --refine it also runs identify with refinement (default options) on the same networks.
 *
 *   npx tsx tools/bench/pipeline.ts [--seeds 5] [--threads 2] [--refine] [--no-write] [--sizes 10,10,3;20,20,5]
 *
 * Never fails on a figure.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeBenchmarkSection } from './benchmarks-md.ts';
import { parameterCount } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify, score, type IdentifyReport } from '@nnid/pipeline';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    refine: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    sizes: { type: 'string', default: '10,10,3;20,20,5;30,20,10;50,30,10' },
  },
});
const seeds = Array.from({ length: Math.max(1, Number(values.seeds)) }, (_, i) => i + 1);
const threads = Math.max(1, Number(values.threads));
const sizes = values.sizes.split(';').map((s) => s.split(',').map(Number) as [number, number, number]);
const loadBefore = loadavg();

interface Run {
  seed: number;
  aShare: number;
  aMedian: number;
  aMin: number;
  vShare: number;
  vMedian: number;
  vMin: number;
  l2Sphere: number;
  l2Gauss: number;
  queries: number;
  multipleOfP: number;
  seconds: Record<string, number>;
  refined?: { l2Sphere: number; l2Gauss: number; aMin: number; vMin: number; queries: number; multipleOfP: number; seconds: number; attempts: number; passed: boolean | null };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const e2 = (x: number) => x.toExponential(1);
const f4 = (x: number) => x.toFixed(4);
const STAGES = ['gradients', 'hessians', 'subspace', 'rankOne', 'attribution', 'completion', 'entangled', 'shifts'] as const;

const results: { size: [number, number, number]; P: number; runs: Run[] }[] = [];
for (const [d, m0, m1] of sizes) {
  const runs: Run[] = [];
  const P = parameterCount({ inputDim: d, width1: m0, width2: m1 });
  for (const seed of seeds) {
    const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', seed });
    const oracle = createOracle(networkBlackBox(truth));
    const act = { layer1: 'tanh', layer2: 'tanh' } as const;
    const res = await identify(oracle, { width1: m0, width2: m1, activation: act, seed, threads, refine: false });
    const s = score(truth, res.network, { points: 10_000 });
    const report: IdentifyReport = res.report;
    const run: Run = {
      seed,
      aShare: s.firstLayer.shareCos999,
      aMedian: s.firstLayer.medianCos,
      aMin: s.firstLayer.minCos,
      vShare: s.entangled.shareCos999,
      vMedian: s.entangled.medianCos,
      vMin: s.entangled.minCos,
      l2Sphere: s.function.sphere.relativeL2,
      l2Gauss: s.function.gaussian.relativeL2,
      queries: report.queries.total,
      multipleOfP: report.queries.multipleOfP,
      seconds: report.seconds,
    };
    if (values.refine) {
      const o2 = createOracle(networkBlackBox(truth));
      const r2 = await identify(o2, { width1: m0, width2: m1, activation: act, seed, threads });
      const s2 = score(truth, r2.network, { points: 10_000 });
      run.refined = {
        l2Sphere: s2.function.sphere.relativeL2,
        l2Gauss: s2.function.gaussian.relativeL2,
        aMin: s2.firstLayer.minCos,
        vMin: s2.entangled.minCos,
        queries: r2.report.queries.total,
        multipleOfP: r2.report.queries.multipleOfP,
        seconds: r2.report.seconds.total,
        attempts: r2.report.attempts.length,
        passed: r2.report.check.passed,
      };
    }
    runs.push(run);
    console.log(
      `(${d}, ${m0}, ${m1}) seed ${seed}: a >=.999 ${pct(run.aShare)} med ${f4(run.aMedian)} min ${f4(run.aMin)} | v >=.999 ${pct(run.vShare)} med ${f4(run.vMedian)} min ${f4(run.vMin)} | ` +
        `L2 sphere ${e2(run.l2Sphere)} N(0,I) ${e2(run.l2Gauss)} | ${run.queries} q (${run.multipleOfP.toFixed(1)} P) ${run.seconds.total.toFixed(2)} s` +
        (run.refined ? ` || refined: L2 ${e2(run.refined.l2Gauss)} a min ${f4(run.refined.aMin)} ${run.refined.seconds.toFixed(1)} s ${run.refined.attempts} attempt(s)` : ''),
    );
  }
  results.push({ size: [d, m0, m1], P, runs });
}
const loadAfter = loadavg();

const lines: string[] = [];
lines.push(
  `The paper's pipeline alone (\`identify\` with \`refine: false\`, default options: range(A) from 2 m0 central gradients, ` +
    `2 (m0 + m1) forward Hessians in the m0 reduced coordinates on the unit sphere, dim W-hat = 1.5 (m0 + m1), ` +
    `10 (m0 + m1) rank-one starts, missing a_i searched in the complement, entangled part re-estimated after deflation, shift fit on 200 queries). ` +
    `Random tanh networks (A orthonormal, shifts N(0, 0.3^2)), widths given, seeds ${seeds.join(', ')}, ${threads} thread(s). ` +
    'Weights matched up to sign and permutation (Hungarian on |cos|); function errors on 10^4 fresh points per distribution.',
);
lines.push('');
lines.push('| (d, m0, m1) | P | a_i \\|cos\\| >= 0.999 | a_i median \\|cos\\| (min) | v_l \\|cos\\| >= 0.999 | v_l median \\|cos\\| (min) | rel. L2 sphere | rel. L2 N(0,I) | queries | queries / P |');
lines.push('|---|---|---|---|---|---|---|---|---|---|');
for (const { size, P, runs } of results) {
  const share = (k: 'aShare' | 'vShare') => runs.reduce((s, r) => s + r[k], 0) / runs.length;
  lines.push(
    `| (${size.join(', ')}) | ${P} | ${pct(share('aShare'))} | ${f4(median(runs.map((r) => r.aMedian)))} (${f4(Math.min(...runs.map((r) => r.aMin)))}) | ` +
      `${pct(share('vShare'))} | ${f4(median(runs.map((r) => r.vMedian)))} (${f4(Math.min(...runs.map((r) => r.vMin)))}) | ` +
      `${e2(median(runs.map((r) => r.l2Sphere)))} | ${e2(median(runs.map((r) => r.l2Gauss)))} | ${median(runs.map((r) => r.queries))} | ${median(runs.map((r) => r.multipleOfP)).toFixed(1)} |`,
  );
}
lines.push('');
lines.push('Shares are over all weights of the five networks; median |cos| is the median over networks of each network\'s median (min: the worst single weight); L2 errors and queries are medians over networks.');
lines.push('');
lines.push('Seconds per stage (median over seeds; `completion` is the search for missing a_i in the orthogonal complement, `entangled` the deflation and re-search of the v_l):');
lines.push('');
lines.push(`| (d, m0, m1) | ${STAGES.join(' | ')} | total |`);
lines.push(`|---|${STAGES.map(() => '---').join('|')}|---|`);
for (const { size, runs } of results) {
  lines.push(`| (${size.join(', ')}) | ${STAGES.map((st) => median(runs.map((r) => r.seconds[st] ?? 0)).toFixed(2)).join(' | ')} | ${median(runs.map((r) => r.seconds.total)).toFixed(2)} |`);
}
if (values.refine) {
  lines.push('');
  lines.push('The same networks identified with refinement (default options: LM on 4 P fresh queries, retries with another dim W-hat when the truth-free check fails):');
  lines.push('');
  lines.push('| (d, m0, m1) | exact (rel. L2 <= 1e-8, both distributions) | worst rel. L2 N(0,I) | min \\|cos\\| a_i, v_l | queries / P (median) | seconds (median, max) | attempts |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const { size, runs } of results) {
    const rr = runs.map((r) => r.refined!);
    const exact = rr.filter((r) => r.l2Sphere <= 1e-8 && r.l2Gauss <= 1e-8).length;
    lines.push(
      `| (${size.join(', ')}) | ${exact} of ${rr.length} | ${e2(Math.max(...rr.map((r) => r.l2Gauss)))} | ${f4(Math.min(...rr.map((r) => r.aMin)))}, ${f4(Math.min(...rr.map((r) => r.vMin)))} | ` +
        `${median(rr.map((r) => r.multipleOfP)).toFixed(1)} | ${median(rr.map((r) => r.seconds)).toFixed(1)}, ${Math.max(...rr.map((r) => r.seconds)).toFixed(1)} | ${rr.map((r) => r.attempts).join(' ')} |`,
    );
  }
}
lines.push('');
lines.push('Where it falls short:');
lines.push('');
lines.push(
  '- The paper\'s pipeline alone is approximate, as DESIGN.md section 2 measured on the prototype: sampled Hessians lie in W only to first order ' +
    '(the derivative of v_l(x) v_l(x)^T adds sym(v_l a_i^T) terms), so W-hat is polluted and the rank-one maximizers mix a_i with nearby v_l. ' +
    'Medians of |cos| are ~0.98-0.99, but single weights can be far off (the min column), and the function error of the assembled network is 1e-1 to 1e0.',
);
lines.push(
  '- Entangled weights concentrated on one or two a_i (small m0, Gaussian b_l) are the hardest: they sit within |cos| 0.8 of an a_i, and the first search often returns a mixture. ' +
    'The deflated re-search (W\' = span{a_i a_i^T} + re-estimated entangled part) finds them regardless of coherence, but only as well as the a_i are known.',
);
lines.push(
  `- Queries: the Hessians dominate (2 (m0 + m1) forward stencils of (m0 + 1)(m0 + 2)/2 queries); with m0 = d there is no reduction. The pipeline alone uses ` +
    `${Math.min(...results.map((r) => median(r.runs.map((x) => x.multipleOfP)))).toFixed(0)}-${Math.max(...results.map((r) => median(r.runs.map((x) => x.multipleOfP)))).toFixed(0)} P.`,
);
if (values.refine) {
  const failed = results.flatMap(({ size, runs }) => runs.filter((r) => !(r.refined!.l2Sphere <= 1e-8 && r.refined!.l2Gauss <= 1e-8)).map((r) => `(${size.join(', ')}) seed ${r.seed}: relative L2 ${e2(r.refined!.l2Gauss)} on N(0, I), truth-free check ${r.refined!.passed ? 'passed' : 'failed (flagged in the report)'}`));
  lines.push(`- After refinement, not exact: ${failed.length ? failed.join('; ') : 'none'}.`);
}
lines.push('');
lines.push(
  `Machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; load average ${loadBefore[0].toFixed(2)} before, ${loadAfter[0].toFixed(2)} after` +
    `${Math.max(loadBefore[0], loadAfter[0]) > 0.5 ? ' (the machine was shared with other work: times are upper bounds)' : ''}.`,
);
lines.push(`Run: \`npx tsx tools/bench/pipeline.ts${values.refine ? ' --refine' : ''}\` (${new Date().toISOString().slice(0, 10)}).`);
const section = lines.join('\n');
console.log('\n' + section);

if (!values['no-write']) writeBenchmarkSection('## Identification (paper pipeline)', section);
