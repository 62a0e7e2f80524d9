/**
 * The matrix-free fit's preconditioner: the first layer per unit ('units', (d+1)-square blocks)
 * against the first layer whole ('whole', one m0 (d+1)-square block, the units coupled), the
 * second layer whole in both. refine's networkOperator + optimize's matrixFreeStrategy on all
 * parameters of a random tanh network (A orthonormal, shifts N(0, 0.3^2), seed 1), every parameter
 * perturbed by eps N(0, 1), N = 4 P points from N(0, I); the dense solver's minimum beside. One
 * thread; CPU seconds of this process (the figure to read under load).
 *
 *   npx tsx packages/refine/bench/preconditioner.ts [--sizes 30,20,8:50,30,10] [--eps 0.02] [--choices units,whole] [--block-budget 40]
 */
import { loadavg } from 'node:os';
import { matrix, parameterCount, rng } from '@nnid/core';
import { leastSquares, matrixFreeStrategy } from '@nnid/optimize';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { fitNetwork, layoutOf, packParameters } from '@nnid/refine';
import { networkOperator } from '../src/jacobian-operator.ts';

const argOf = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const sizes = argOf('--sizes', '30,20,8:50,30,10').split(':').map((s) => s.split(',').map(Number));
const eps = Number(argOf('--eps', '0.02'));
const choices = argOf('--choices', 'units,whole').split(',') as ('units' | 'whole')[];
// the blocks' row budget as a multiple of N P (one CG iteration is ~4 N P): 0 = the default BLOCK_FLOPS
const budget = Number(argOf('--block-budget', '0'));
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
console.log(`load ${loadavg()[0].toFixed(1)}`);
console.log('| (d, m0, m1) | P | first layer | CPU s | LM iterations | CG iterations (solves, total, max per solve) | relative residual | max |x - dense| |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [d, m0, m1] of sizes) {
  const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', shiftStd: 0.3, seed: 1 });
  const P = parameterCount(truth);
  const N = 4 * P;
  const inputs = matrix(N, d);
  rng(2).fillNormal(inputs.data);
  const y = evaluateNetwork(truth, inputs);
  const layout = layoutOf(truth);
  const start = packParameters(truth, layout);
  const s = rng(3);
  for (let k = 0; k < P; k++) start[k] += eps * s.normal();
  let t = cpu();
  const { network } = await fitNetwork(
    { ...truth, A: { ...truth.A, data: start.slice(0, m0 * d) }, theta: start.slice(layout.offTheta, layout.offTheta + m0), B: { ...truth.B, data: start.slice(layout.offB, layout.offB + m1 * m0) }, tau: start.slice(layout.offTau, layout.offTau + m1) },
    { inputs, values: y },
    { solver: 'normal-equations' },
  );
  const dense = packParameters(network, layout);
  console.log(`| (${d}, ${m0}, ${m1}) | ${P} | dense | ${(cpu() - t).toFixed(2)} | | | | |`);
  for (const choice of choices) {
    t = cpu();
    const op = networkOperator({ layout, p: start, free: 'weights-and-shifts', X: inputs.data, Y: y, N, firstLayerBlock: choice, ...(budget > 0 ? { blockFlops: budget * N * P } : {}) });
    const strategy = matrixFreeStrategy(op);
    const { x, report } = await leastSquares(strategy, start, { residualScale: Math.hypot(...y), residualTolerance: 1e-14 });
    const st = strategy.stats();
    let diff = 0;
    for (let k = 0; k < P; k++) diff = Math.max(diff, Math.abs(x[k] - dense[k]));
    console.log(`| (${d}, ${m0}, ${m1}) | ${P} | ${choice} (${st.preconditionerBlocks} blocks) | ${(cpu() - t).toFixed(2)} | ${report.iterations} | ${st.solves}, ${st.cgIterations}, ${st.maxCgIterations} | ${report.relativeResidual?.toExponential(1)} | ${diff.toExponential(1)} |`);
  }
}
console.log(`load ${loadavg()[0].toFixed(1)}`);
