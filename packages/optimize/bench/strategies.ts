/**
 * The two step strategies side by side on refine's fit (fitNetwork, all parameters): the dense
 * normal equations (J^T J + Cholesky) and the matrix-free one (Jacobi-preconditioned CG on J v,
 * J^T w; its CG to 1e-10 at every step ('fixed') or adaptive forcing, the default). Random tanh
 * networks (A orthonormal, shifts N(0, 0.3^2)), starts with every parameter perturbed by 0.02 and
 * by 0.1 N(0, 1), 4 P data points from N(0, I), one thread, defaults otherwise.
 *
 *   npx tsx packages/optimize/bench/strategies.ts [--sizes 20,10,3:30,20,8]
 */
import { matrix, parameterCount, rng, type Network } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { tier } from '@nnid/linalg';
import { fitNetwork, layoutOf, packParameters, unpackParameters } from '@nnid/refine';

const arg = process.argv.indexOf('--sizes');
const sizes = (arg > 0 ? process.argv[arg + 1] : '20,10,3:30,20,8:50,30,10').split(':').map((s) => s.split(',').map(Number));

function perturb(net: Network, eps: number, seed: number): Network {
  const layout = layoutOf(net);
  const p = packParameters(net, layout);
  const s = rng(seed);
  for (let k = 0; k < p.length; k++) p[k] += eps * s.normal();
  return unpackParameters(p, layout);
}

console.log(`linear algebra tier: ${tier()}`);
console.log('| (d, m0, m1) | P | start | solver | seconds | iterations | njev | CG iterations (total, max per solve) | relative residual | max parameter error |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const [d, m0, m1] of sizes) {
  const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', shiftStd: 0.3, seed: 1 });
  const P = parameterCount(truth);
  const inputs = matrix(4 * P, d);
  rng(2).fillNormal(inputs.data);
  const data = { inputs, values: evaluateNetwork(truth, inputs) };
  for (const eps of [0.02, 0.1]) {
  const start = perturb(truth, eps, 3);
  for (const [solver, forcing] of [['normal-equations', null], ['matrix-free', 'fixed'], ['matrix-free', 'adaptive']] as const) {
    const t0 = performance.now();
    const { network, report } = await fitNetwork(start, data, { solver, rowBlocks: 1, ...(forcing ? { matrixFree: { forcing } } : {}) });
    const seconds = (performance.now() - t0) / 1000;
    const a = packParameters(truth, layoutOf(truth));
    const b = packParameters(network, layoutOf(truth));
    const err = a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0);
    const cg = report.strategyStats ? `${report.strategyStats.cgIterations}, ${report.strategyStats.maxCgIterations}` : '-';
    console.log(`| (${d}, ${m0}, ${m1}) | ${P} | ${eps} | ${solver}${forcing ? ` (${forcing})` : ''} | ${seconds.toFixed(2)} | ${report.iterations} | ${report.njev} | ${cg} | ${report.relativeResidual.toExponential(1)} | ${err.toExponential(1)} |`);
  }
  }
}
