/**
 * One refinement LM iteration in R^d against one in range(A)'s coordinates (polish-range.ts), side
 * by side in one process: fitNetwork on all parameters of a random tanh network (A orthonormal,
 * shifts N(0, 0.3^2), seed 1), started 1e-2 N(0, 1) from the truth (A moved inside its row span,
 * as the pipeline's rows are), N = 4 P + the shift fit's points, as identify's refinement; CPU
 * seconds per LM iteration (the solver 'auto' takes: dense at (100, 50, 20), matrix-free at (200, 100, 30),
 * with its CG counts).
 *
 *   npx tsx packages/pipeline/bench/range-iteration.ts [--size 100,50,20] [--iterations 2]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { matrix, parameterCount, rng, type Network } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { fitNetwork } from '@nnid/refine';
import { rowSpanBasis, toRange } from '../src/polish-range.ts';

const { values } = parseArgs({ options: { size: { type: 'string', default: '100,50,20' }, iterations: { type: 'string', default: '2' } } });
const [d, m0, m1] = values.size!.split(',').map(Number);
const iterations = Number(values.iterations);
const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', shiftStd: 0.3, seed: 1 });
const P = parameterCount(truth);
const N = 4 * P + 6 * (m0 + m1);
const inputs = matrix(N, d);
rng(2).fillNormal(inputs.data);
const data = { inputs, values: evaluateNetwork(truth, inputs) };
const U = rowSpanBasis(truth.A);
const s = rng(3);
const A = matrix(m0, d);
for (let i = 0; i < m0; i++) {
  for (let t = 0; t < d; t++) {
    let inside = 0;
    for (let j = 0; j < U.shape[1]; j++) inside += U.data[t * U.shape[1] + j] * s.normal();
    A.data[i * d + t] = truth.A.data[i * d + t] + 1e-2 * inside;
  }
}
const bump = (v: Float64Array) => v.map((x) => x + 1e-2 * s.normal());
const start: Network = { ...truth, A, theta: bump(truth.theta), B: { ...truth.B, data: bump(Float64Array.from(truth.B.data)) }, tau: bump(truth.tau) };
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
console.log(`(${d}, ${m0}, ${m1}) P = ${P}, N = ${N}, ${iterations} LM iterations each; load ${loadavg()[0].toFixed(1)}`);
for (const where of ['range', 'full'] as const) {
  const t0 = cpu();
  const w0 = performance.now();
  const problem = where === 'full' ? { network: start, data } : toRange(start, U, data);
  const fitted = await fitNetwork(problem.network, problem.data, { maxIterations: iterations, stallWindow: 0 });
  const F = parameterCount(problem.network);
  const c = cpu() - t0;
  console.log(
    `${where}: F = ${F}, ${fitted.report.strategy}, ${fitted.report.iterations} iterations, ${c.toFixed(1)} CPU s (${(c / fitted.report.iterations).toFixed(1)} per iteration), ` +
      `${((performance.now() - w0) / 1000).toFixed(0)} s wall, relative residual ${fitted.report.relativeResidual.toExponential(2)}${fitted.report.strategyStats ? `, CG ${JSON.stringify(fitted.report.strategyStats)}` : ''}, peak RSS ${((process.resourceUsage().maxRSS * 1024) / 1024 ** 3).toFixed(2)} GiB`,
  );
}
console.log(`load ${loadavg()[0].toFixed(1)}`);
