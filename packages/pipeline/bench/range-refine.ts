/**
 * identify's refinement stages (refineStages: the fit of (theta, B, tau), then the full LM) from the
 * pipeline's own start, in R^d and in range(A)'s coordinates (then the finish in R^d), side by side in
 * one process on the same data: identify without refinement on a random tanh network (A orthonormal,
 * shifts N(0, 0.3^2), seed 1, widths given), then 4 P fresh Gaussian answers; CPU seconds, LM
 * iterations and the exact score of each (identify's options: upper fit at most 100 iterations, cost tolerance 1e-4).
 *
 *   npx tsx packages/pipeline/bench/range-refine.ts [--size 100,50,20] [--threads 2] [--order full,range]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { matrix, parameterCount, rng } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify, score } from '@nnid/pipeline';
import { refineStages } from '../src/refine-stages.ts';

const { values } = parseArgs({ options: { size: { type: 'string', default: '100,50,20' }, threads: { type: 'string', default: '2' }, order: { type: 'string', default: 'full,range' } } });
const [d, m0, m1] = values.size!.split(',').map(Number);
const threads = Number(values.threads);
const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', seed: 1 });
const P = parameterCount(truth);
const oracle = createOracle(networkBlackBox(truth));
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
let t = cpu();
const pipeline = await identify(oracle, { width1: m0, width2: m1, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, threads, refine: false });
console.log(`(${d}, ${m0}, ${m1}) P = ${P}: pipeline ${(cpu() - t).toFixed(1)} CPU s; load ${loadavg()[0].toFixed(1)}`);
const N = 4 * P;
const inputs = matrix(N, d);
rng(5).fillNormal(inputs.data);
const data = { inputs, values: await oracle.evaluate(inputs) };
for (const where of values.order!.split(',')) {
  t = cpu();
  const w0 = performance.now();
  const iterations: number[] = [];
  const r = await refineStages(pipeline.network, data, { seed: 1, threads, secondLayerStarts: 0, upperFitIterations: 100, upperFitCostTolerance: 1e-4, maxIterations: 200, range: where === 'range' }, (it) => iterations.push(it));
  const s = score(truth, r.network, { points: 10_000 });
  console.log(
    `${where}: ${(cpu() - t).toFixed(1)} CPU s, ${((performance.now() - w0) / 1000).toFixed(0)} s wall; upper fit ${r.upperFit?.iterations} iterations; ` +
      `${r.range ? `in range(A) ${r.range.iterations} iterations (${r.range.parameters.range} parameters, residual ${r.range.relativeResidual.toExponential(2)}), finish ` : ''}${r.refine.iterations} iterations, residual ${r.refine.relativeResidual.toExponential(2)}; ` +
      `relative L2 ${s.function.sphere.relativeL2.toExponential(1)} / ${s.function.gaussian.relativeL2.toExponential(1)}; peak RSS ${((process.resourceUsage().maxRSS * 1024) / 1024 ** 3).toFixed(2)} GiB; load ${loadavg()[0].toFixed(1)}`,
  );
}
