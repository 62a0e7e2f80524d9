/**
 * The experiment behind the fit's solver (README, "Why not refine's fitNetwork"): the 9 (or 3 n)
 * starts of startNetwork on networks 1001.. of a family, at b P, each fitted by optimize's
 * leastSquares with Marquardt's scaling ('marq': optimize's normalEquationsStrategy) or
 * Levenberg's ('lev': levenberg.ts), with or without inner steps ('noinner'), the stall rule
 * ('nostall'), 400 iterations ('it400'), lambda from 1e-3 (default), 1e-2 ('l2'), 1e-1 ('l1'), 1 ('l0'),
 * Nielsen's update or divide-by-10 ('divide'). Prints each start and the count of exact ones.
 *
 *   npx tsx packages/student-fit/bench/solver-variants.ts lev-l2-noinner [tanh 0.3 20,10,3 5 networks starts]
 */
import { matrixFrom, parameterCount, toGeneral } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { generalLayoutOf, packGeneral } from '@nnid/refine';
import { leastSquares, normalEquationsStrategy } from '@nnid/optimize';
import { startNetwork, gaussianPoints } from '@nnid/student-fit';
import { studentEquations } from '../src/equations.ts';
import { levenbergStrategy } from '../src/levenberg.ts';

const variant = process.argv[2] ?? 'lev';
const act = (process.argv[3] ?? 'tanh') as 'tanh';
const shift = Number(process.argv[4] ?? 0.3);
const [d, m0, m1] = (process.argv[5] ?? '20,10,3').split(',').map(Number);
const budget = Number(process.argv[6] ?? 5);
const nets = Number(process.argv[7] ?? 3);
const nstarts = Number(process.argv[8] ?? 3);
let exact = 0; let total = 0; let secs = 0;
for (let idx = 0; idx < nets; idx++) {
  const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: act, shiftStd: shift, seed: 1001 + idx });
  const P = parameterCount(truth);
  const N = Math.floor(budget * P);
  const X = gaussianPoints(N, d, idx);
  const y = evaluateNetwork(truth, matrixFrom(X, N, d));
  for (let s = 0; s < nstarts; s++) {
    const start = toGeneral(startNetwork({ inputDim: d, width1: m0, width2: m1, activation: { layer1: act, layer2: act } }, idx, s));
    const layout = generalLayoutOf(start);
    const full = packGeneral(start, layout);
    const t0 = performance.now();
    const eq = studentEquations(full, layout, X, y, N, layout.offC);
    const strat = variant.includes('marq') ? normalEquationsStrategy(eq) : levenbergStrategy(eq);
    const { report } = await leastSquares(strat, full.slice(0, layout.offC), {
      maxIterations: variant.includes('it400') ? 400 : 200,
      residualScale: Math.hypot(...y), residualTolerance: 1e-15, stepTolerance: 1e-13, stepTest: 'size-and-prediction', costTolerance: 1e-12,
      acceptance: 'gain-ratio', innerSteps: variant.includes('noinner') ? 0 : 4,
      stallWindow: variant.includes('nostall') ? 0 : 50, stallFactor: 0.8, stallAbove: 1e-6,
      damping: variant.includes('divide') ? { initial: 1e-2, decrease: { rule: 'divide', by: 10, floor: 1e-15 }, ceiling: 1e20 } : { initial: variant.includes('l0') ? 1 : variant.includes('l1') ? 1e-1 : variant.includes('l2') ? 1e-2 : 1e-3, decrease: { rule: 'nielsen', minFactor: 0.1 }, ceiling: 1e20 },
    });
    const t = (performance.now() - t0) / 1000; secs += t;
    total++; if (report.relativeResidual < 1e-9) exact++;
    console.log(`net ${idx} start ${s}: rel ${report.relativeResidual.toExponential(2)} it ${report.iterations} ${report.stopReason} ${t.toFixed(1)} s`);
  }
}
console.log(`${variant} ${process.argv.slice(3).join(' ')}: ${exact}/${total}, ${secs.toFixed(1)} s`);
