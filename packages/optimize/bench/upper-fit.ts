/**
 * identify's fit of (theta, B, tau) with A fixed (refine's fix 'first-layer-weights', the stage
 * before the full fit) by the dense normal equations and by the matrix-free solver, side by side
 * in one process: a random tanh network (A orthonormal, shifts N(0, 0.3^2), seed 1), theta, B and
 * tau perturbed by eps N(0, 1), A exact, on N = rows P points from N(0, I).
 *
 *   npx tsx packages/optimize/bench/upper-fit.ts [--size 100,50,20] [--eps 0.05] [--rows 4] [--iterations 100] [--threads 1] [--solvers normal-equations,matrix-free]
 */
import { matrix, parameterCount, rng, type Network } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { tier } from '@nnid/linalg';
import { fitNetwork, layoutOf, packParameters, unpackParameters } from '@nnid/refine';

const argOf = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const [d, m0, m1] = argOf('--size', '100,50,20').split(',').map(Number);
const eps = Number(argOf('--eps', '0.05'));
const rowsPerP = Number(argOf('--rows', '4'));
const iterations = Number(argOf('--iterations', '100'));
const threads = Number(argOf('--threads', '1'));
const solvers = argOf('--solvers', 'normal-equations,matrix-free').split(',');

const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', shiftStd: 0.3, seed: 1 });
const P = parameterCount(truth);
const layout = layoutOf(truth);
const N = Math.round(rowsPerP * P);
const inputs = matrix(N, d, { shared: true });
rng(2).fillNormal(inputs.data);
const data = { inputs, values: evaluateNetwork(truth, inputs) };
const p = packParameters(truth, layout);
const s = rng(3);
for (let k = layout.offTheta; k < P; k++) p[k] += eps * s.normal();
const start: Network = unpackParameters(p, layout);
console.log(`tier ${tier()}; (${d}, ${m0}, ${m1}), P = ${P}, free ${P - layout.offTheta}, N = ${N}; (theta, B, tau) perturbed by ${eps}; load ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
console.log('| solver | threads | wall s | CPU s | LM iterations | CG iterations (total, max per solve) | stop | relative residual | max parameter error |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const solver of solvers) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { network, report } = await fitNetwork(start, data, { fix: 'first-layer-weights', maxIterations: iterations, threads, innerSteps: 0, solver } as Parameters<typeof fitNetwork>[2]);
  const cpu = process.cpuUsage(cpu0);
  const b = packParameters(network, layout);
  const t = packParameters(truth, layout);
  const err = t.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0);
  const st = report.strategyStats;
  console.error(`${solver}: relative residual history ${report.residualHistory.map((r: number) => r.toExponential(2)).join(' ')}`);
  console.log(`| ${solver} | ${threads} | ${((performance.now() - t0) / 1000).toFixed(2)} | ${((cpu.user + cpu.system) / 1e6).toFixed(2)} | ${report.iterations} | ${st ? `${st.cgIterations}, ${st.maxCgIterations}` : '-'} | ${report.stopReason} | ${report.relativeResidual.toExponential(1)} | ${err.toExponential(1)} |`);
}
