/**
 * Issue 13: where identify loses a trained network (a held-out export's truth, v2), stage by stage,
 * and how coherent its rows are. For k > 1 identify runs on the projection w^T f (identifyOutputs,
 * w from the seed); this bench builds that projected k = 1 network from the truth and runs on it in
 * float64 (the truth file as the black box: no float32 rounding), pair and widths given:
 *   w^T C        each second-layer unit's weight in the projection (a unit near 0 is nearly invisible)
 *   coherence    the largest |cos| between two rows of W1, the singular values of W1's unit rows
 *   identify     identify's defaults (method pipeline): relative L2 on 10^4 Gaussian points
 *   dirs         the Hessian stages' directions (identify `refine: false`), |cos| to W1's rows (best assignment)
 *   v            the entangled weights of that start against the truth's (W1^T diag(phi1'(b1)) W2_l)
 *   rows         each found row's |cos| with every a_i and v_l of the truth
 *   trueA/trueAB refineGeneralStages (identify's settings) on identify's own data from the true
 *                directions with the start's (theta, B, tau) / from the truth in the paper's form
 * A failure is the directions' when trueA is exact, the second layer's start when only trueAB is.
 *
 *   npx tsx packages/pipeline/bench/trained-stages.ts --truth /tmp/heldout/d13-m6-m3-k3-gelu-torch-wine.truth.json [--seed 3]
 *   npx tsx packages/pipeline/bench/trained-stages.ts --coherence /tmp/heldout
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { entangledWeights, matrix, readNetworkAny, rng, type Float64View, type GeneralNetwork, type Network } from '@nnid/core';
import { svd } from '@nnid/linalg';
import { createOracle, generalBlackBox } from '@nnid/oracle';
import { identify, matchWeights, scoreGeneral } from '@nnid/pipeline';
import { refineGeneralStages } from '../src/refine-stages.ts';
import { generalEntangled, trueRowsInFoundOrder } from './true-rows.ts';

const { values } = parseArgs({ options: { truth: { type: 'string' }, coherence: { type: 'string' }, seed: { type: 'string', default: '1' }, threads: { type: 'string', default: '2' } } });

const unitRows = (M: Float64View, rows: number, cols: number): number[][] =>
  Array.from({ length: rows }, (_, i) => {
    const r = Array.from({ length: cols }, (_, j) => M.data[M.offset + i * M.strides[0] + j * M.strides[1]]);
    const n = Math.hypot(...r);
    return r.map((x) => x / n);
  });
const absCos = (a: number[], b: number[]) => Math.abs(a.reduce((s, x, j) => s + x * b[j], 0));

function coherence(g: GeneralNetwork): { maxCos: number; singular: number[] } {
  const rows = unitRows(g.W1, g.width1, g.inputDim);
  let maxCos = 0;
  for (let i = 0; i < rows.length; i++) for (let j = i + 1; j < rows.length; j++) maxCos = Math.max(maxCos, absCos(rows[i], rows[j]));
  const U = matrix(g.width1, g.inputDim);
  rows.forEach((r, i) => U.data.set(r, i * g.inputDim));
  return { maxCos, singular: Array.from(svd(U).values) };
}

if (values.coherence) {
  console.log('| truth | (d, m0, m1) k | max \\|cos\\| of two rows of W1 | singular values of W1\'s unit rows | largest / smallest |');
  console.log('|---|---|---|---|---|');
  for (const f of readdirSync(values.coherence).filter((x) => x.endsWith('.truth.json')).sort()) {
    const g = readNetworkAny(join(values.coherence, f)).general;
    const c = coherence(g);
    console.log(`| ${f.replace('.truth.json', '')} | (${g.inputDim}, ${g.width1}, ${g.width2}) ${g.outputs} | ${c.maxCos.toFixed(3)} | ${c.singular.map((s) => s.toFixed(2)).join(', ')} | ${(c.singular[0] / c.singular.at(-1)!).toPrecision(3)} |`);
  }
  process.exit(0);
}

const seed = Number(values.seed);
const truthK = readNetworkAny(values.truth!).general;
const k = truthK.outputs;
// identifyOutputs' projection: unit Gaussian from the seed's own stream
const w = new Float64Array(k);
rng(seed).split(0x0e7).fillSphere(w, 1);
const Cw = matrix(1, truthK.width2);
for (let l = 0; l < truthK.width2; l++) for (let o = 0; o < k; o++) Cw.data[l] += w[o] * truthK.C.data[o * truthK.width2 + l];
const cw = Array.from(w).reduce((s, x, o) => s + x * truthK.c[o], 0);
const truth: GeneralNetwork = { ...truthK, outputs: 1, C: Cw, c: Float64Array.of(cw) };
const { inputDim: d, width1: m0, width2: m1 } = truth;
const coh = coherence(truth);
console.log(`w^T C: ${Array.from(Cw.data, (x) => x.toFixed(3)).join(', ')} (smallest / largest |.| ${(Math.min(...Array.from(Cw.data, Math.abs)) / Math.max(...Array.from(Cw.data, Math.abs))).toFixed(3)})`);
console.log(`coherence: max |cos| ${coh.maxCos.toFixed(3)}, singular values ${coh.singular.map((s) => s.toFixed(2)).join(', ')}`);

const entangled = generalEntangled(truth);
const common = { width1: m0, width2: m1, activation: truth.activation, seed, threads: Number(values.threads), model: 'general' as const };
const cpu0 = process.cpuUsage();
const full = await identify(createOracle(generalBlackBox(truth)), common);
console.log(`identify: relative L2 ${scoreGeneral(truth, full.networkGeneral!).function.gaussian.relativeL2.toExponential(2)}, check ${full.report.check.relativeResidual?.toExponential(2) ?? "none"}`);
const before = await identify(createOracle(generalBlackBox(truth)), { ...common, refine: false });
const nb: Network = before.networkBeforeRefinement;
const dirs = matchWeights(truth.W1, nb.A);
const vs = matchWeights(entangled, entangledWeights(nb));
console.log(`dirs |cos|: ${dirs.cosines.map((c) => c.toFixed(3)).join(', ')}; v |cos|: ${vs.cosines.map((c) => c.toFixed(3)).join(', ')}`);
const T = [...unitRows(truth.W1, m0, d), ...unitRows(entangled, m1, d)];
const names = [...Array.from({ length: m0 }, (_, i) => `a${i}`), ...Array.from({ length: m1 }, (_, l) => `v${l}`)];
console.log(`| found row | ${names.join(' | ')} |`);
console.log(`|---|${names.map(() => '---').join('|')}|`);
unitRows(nb.A, m0, d).forEach((f, i) => console.log(`| ${i} | ${T.map((t) => absCos(t, f).toFixed(3)).join(' | ')} |`));
const data = full.refinementData!;
const { directions, truthPattern } = trueRowsInFoundOrder(truth, nb.A);
const settings = { seed: 1, upperFitIterations: 100, upperFitCostTolerance: 1e-4, maxIterations: 200, goodResidual: 1e-9, pruneUnits: false };
const trueA = await refineGeneralStages({ ...nb, A: directions }, data, settings);
const trueAB = await refineGeneralStages({ ...nb, ...truthPattern }, data, settings);
const cpu = process.cpuUsage(cpu0);
console.log(`trueA ${scoreGeneral(truth, trueA.network).function.gaussian.relativeL2.toExponential(2)}, trueAB ${scoreGeneral(truth, trueAB.network).function.gaussian.relativeL2.toExponential(2)}; ${((cpu.user + cpu.system) / 1e6).toFixed(1)} CPU s`);
