/**
 * The refinement of issue 15's scale ladder from a saved start (scale-ladder.ts --no-refine
 * --save-network FILE), without paying the stages again: why the full fit crawls at
 * (200, 100, 30). Prints the start's quality (|cos| of every first-layer row a_i and entangled
 * weight v_l with the truth's, the worst ones), then runs the refinement's two fits (theta, B, tau
 * with A fixed, then every parameter) on 4 P fresh answers of the truth, with each LM iteration's
 * relative residual and CPU seconds, the CG counts and the exact score.
 *
 *   npx tsx packages/pipeline/bench/refine-saved.ts --start FILE --sizes 200,100,30 [--seed 1]
 *     [--swap K] [--upper-solver S] [--upper-iterations 4] [--solver S] [--iterations 3]
 *     [--forcing adaptive|fixed] [--points 4] [--threads 2] [--range] [--save FILE]
 *
 * --swap K: the diagnosis's control: true and start rows paired greedily by |cos|, the K worst
 * pairs' start rows replaced by the true rows (the start's theta, B, tau kept: the fits refit
 * them), so that a fit that then converges says the start held it back, not the solver.
 * --save FILE: the network after the fits (e.g. after the (theta, B, tau) fit alone, to start
 * several full fits from it with --start FILE --upper-iterations 0).
 * --range: the full fit in range(A)'s coordinates (the span of the start's rows; polish-range.ts's
 * toRange), lifted back after.
 * --upper-iterations 0: no (theta, B, tau) fit. Never fails on a figure.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { entangledWeights, matrix, parameterCount, parseNetwork, rng, serializeNetwork, type Network } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { fitNetwork } from '@nnid/refine';
import { matchWeights, score } from '@nnid/pipeline';
import { fromRange, rowSpanBasis, toRange } from '../src/polish-range.ts';

const { values } = parseArgs({
  options: {
    start: { type: 'string' },
    sizes: { type: 'string', default: '200,100,30' },
    seed: { type: 'string', default: '1' },
    swap: { type: 'string', default: '0' },
    'upper-solver': { type: 'string', default: 'normal-equations' },
    'upper-iterations': { type: 'string', default: '4' },
    solver: { type: 'string', default: 'matrix-free' },
    iterations: { type: 'string', default: '3' },
    forcing: { type: 'string', default: 'adaptive' },
    points: { type: 'string', default: '4' },
    threads: { type: 'string', default: '2' },
    save: { type: 'string' },
    range: { type: 'boolean', default: false },
  },
});
const [d, m0, m1] = values.sizes!.split(',').map(Number);
const seed = Number(values.seed);
const threads = Number(values.threads);
const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', seed });
let start: Network = parseNetwork(JSON.parse(readFileSync(values.start!, 'utf8')));
const P = parameterCount(truth);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function quality(net: Network, label: string): void {
  const a = matchWeights(truth.A, net.A);
  const v = matchWeights(entangledWeights(truth), entangledWeights(net));
  const worst = (c: number[]) => [...c].sort((x, y) => x - y).slice(0, 8).map((x) => x.toFixed(3)).join(', ');
  const below = (c: number[], t: number) => c.filter((x) => x < t).length;
  console.log(
    `${label}: a_i |cos| worst ${worst(a.cosines)}; median ${a.medianCos.toFixed(4)}; below 0.9: ${below(a.cosines, 0.9)}, below 0.99: ${below(a.cosines, 0.99)} of ${m0}; ` +
      `v_l worst ${worst(v.cosines)}; median ${v.medianCos.toFixed(4)}; below 0.9: ${below(v.cosines, 0.9)} of ${m1}`,
  );
}

quality(start, 'start');
const swap = Number(values.swap);
if (swap > 0) {
  // true and start rows paired greedily by |cos| (largest first), the K worst pairs' start rows set to the true row
  const A = matrix(m0, d);
  A.data.set(start.A.data.subarray(start.A.offset, start.A.offset + m0 * d));
  const all: { i: number; j: number; c: number }[] = [];
  for (let i = 0; i < m0; i++) {
    for (let j = 0; j < m0; j++) {
      let c = 0;
      let nj = 0;
      for (let k = 0; k < d; k++) {
        c += truth.A.data[i * d + k] * A.data[j * d + k];
        nj += A.data[j * d + k] ** 2;
      }
      all.push({ i, j, c: Math.abs(c) / Math.sqrt(nj) });
    }
  }
  all.sort((x, y) => y.c - x.c);
  const usedTrue = new Set<number>();
  const usedStart = new Set<number>();
  const pairs: typeof all = [];
  for (const q of all) {
    if (usedTrue.has(q.i) || usedStart.has(q.j)) continue;
    usedTrue.add(q.i);
    usedStart.add(q.j);
    pairs.push(q);
  }
  const swapped = Math.min(swap, m0);
  for (const { i, j } of pairs.slice(m0 - swapped)) for (let k = 0; k < d; k++) A.data[j * d + k] = truth.A.data[i * d + k];
  start = { ...start, A };
  quality(start, `start with the ${swapped} worst rows swapped for the truth's`);
}

const N = Math.round(Number(values.points) * P);
const inputs = matrix(N, d);
const stream = rng(seed).split(0x5a5ed);
for (let n = 0; n < N; n++) {
  const row = inputs.data.subarray(n * d, (n + 1) * d);
  if (n % 2 === 0) stream.split(n).fillSphere(row, 1);
  else stream.split(n).fillNormal(row);
}
const data = { inputs, values: evaluateNetwork(truth, inputs) };
console.log(`(${d}, ${m0}, ${m1}) P = ${P}, N = ${N}; load ${loadavg()[0].toFixed(1)}`);

const trace = (label: string) => {
  let t = cpu();
  return (it: number, res: number) => {
    const now = cpu();
    console.log(`  ${label} iteration ${it}: relative residual ${res.toExponential(2)}, ${(now - t).toFixed(1)} CPU s`);
    t = now;
  };
};
const matrixFree = { forcing: values.forcing as 'adaptive' | 'fixed' };
let current = start;
const upperIterations = Number(values['upper-iterations']);
if (upperIterations > 0) {
  const t = cpu();
  const upper = await fitNetwork(current, data, { fix: 'first-layer-weights', maxIterations: upperIterations, costTolerance: 1e-4, innerSteps: 0, solver: values['upper-solver'] as 'auto', matrixFree, threads, onProgress: trace('upper') });
  console.log(`upper fit: ${upper.report.iterations} iterations, residual ${upper.report.relativeResidual.toExponential(2)}, ${(cpu() - t).toFixed(1)} CPU s, ${JSON.stringify(upper.report.strategyStats ?? {})}; load ${loadavg()[0].toFixed(1)}`);
  current = upper.network;
  if (Number(values.iterations) === 0) quality(current, 'after the (theta, B, tau) fit');
}
if (Number(values.iterations) === 0) {
  if (values.save) writeFileSync(values.save, JSON.stringify(serializeNetwork(current)));
  process.exit(0);
}
const t = cpu();
// --range: the full fit in the coordinates of the span of the rows (polish-range.ts), lifted back after
const U = values.range ? rowSpanBasis(current.A) : null;
const reduced = U ? toRange(current, U, data) : { network: current, data };
const fitted = await fitNetwork(reduced.network, reduced.data, { maxIterations: Number(values.iterations), solver: values.solver as 'auto', matrixFree, threads, onProgress: trace(U ? 'full (range(A))' : 'full') });
const full = U ? { ...fitted, network: fromRange(fitted.network, U) } : fitted;
console.log(`full fit${U ? ` in range(A) (${U.shape[1]} columns)` : ''}: ${full.report.iterations} iterations, residual ${full.report.relativeResidual.toExponential(2)}, ${(cpu() - t).toFixed(1)} CPU s, ${JSON.stringify(full.report.strategyStats ?? {})}; load ${loadavg()[0].toFixed(1)}`);
quality(full.network, 'after');
if (values.save) writeFileSync(values.save, JSON.stringify(serializeNetwork(full.network)));
const s = score(truth, full.network, { points: 10_000 });
console.log(`relative L2 sphere ${s.function.sphere.relativeL2.toExponential(2)}, gaussian ${s.function.gaussian.relativeL2.toExponential(2)}; peak RSS ${((process.resourceUsage().maxRSS * 1024) / 1024 ** 3).toFixed(2)} GiB`);
