/**
 * Issue 13: is a trained network's Hessian stack the paper's span{a_i a_i^T, v_l v_l^T}? For a
 * held-out truth (v2, k outputs), its projection w^T f (w from the seed, as identifyOutputs draws
 * it) and, with 'all', the k - 1 combinations completing w (identifyOutputs' outputHessians 'all'):
 * central-difference Hessians at N points of the sphere of each radius (float64, the truth as the
 * black box), the subspace of dimension m0 + m1, and for every true a_i and v_l(0) (the entangled
 * weights at x = 0) the Frobenius distance of its unit rank-one matrix to that subspace
 * (sqrt(1 - Phi); 0 when it lies in it), with the singular values around m0 + m1 (a gap there is
 * what the subspace stage counts on).
 *
 *   npx tsx packages/pipeline/bench/trained-subspace.ts /tmp/heldout/d13-m6-m3-k3-gelu-torch-wine.truth.json 1 [N = 60]
 */
import { matrix, readNetworkAny, rng, type GeneralNetwork } from '@nnid/core';
import { createOracle, generalBlackBox } from '@nnid/oracle';
import { sampleHessians, spherePoints } from '@nnid/hessian-sampler';
import { estimateSubspace, distanceToSubspace } from '@nnid/subspace';
import { orthonormalComplement } from '@nnid/pipeline';
import { generalEntangled } from './true-rows.ts';
const [file, seedS, N] = process.argv.slice(2);
const truthK = readNetworkAny(file).general;
const k = truthK.outputs;
const w = new Float64Array(k);
rng(Number(seedS)).split(0x0e7).fillSphere(w, 1);
const proj = (u: Float64Array): GeneralNetwork => {
  const Cw = matrix(1, truthK.width2);
  for (let l = 0; l < truthK.width2; l++) for (let o = 0; o < k; o++) Cw.data[l] += u[o] * truthK.C.data[o * truthK.width2 + l];
  return { ...truthK, outputs: 1, C: Cw, c: Float64Array.of(0) };
};
const dirs = [w, ...orthonormalComplement(w)];
const { inputDim: d, width1: m0, width2: m1 } = truthK;
const ent = generalEntangled(proj(w));
const rows = (M: any, n: number) => Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, j) => M.data[M.offset + i * M.strides[0] + j * M.strides[1]]));
const A = rows(truthK.W1, m0), V = rows(ent, m1);
for (const radius of [1, 0.5, 0.2, 0.1, 0.05]) {
  const points = spherePoints(Number(N ?? 60), d, radius, 7);
  for (const mode of ['projection', 'all']) {
    const stacks = [];
    for (const u of mode === 'all' ? dirs : [w]) stacks.push((await sampleHessians(createOracle(generalBlackBox(proj(u))), points, { scheme: 'central', layout: 'packed', threads: 1, step: Math.min(1e-3, radius / 10) })).hessianStack);
    const rowsN = stacks.reduce((n, s) => n + s.shape[0], 0);
    const st = matrix(rowsN, stacks[0].shape[1]);
    let at = 0; for (const s of stacks) { st.data.set(s.data.subarray(s.offset, s.offset + s.shape[0] * s.shape[1]), at); at += s.shape[0] * s.shape[1]; }
    const sub = estimateSubspace(st, { layout: 'packed', dimension: m0 + m1 });
    const sv = sub.report.singularValues;
    console.log(`radius ${radius} ${mode}: a_i distance ${A.map((a) => distanceToSubspace(sub.subspace, a).toExponential(1)).join(' ')} | v_l distance ${V.map((v) => distanceToSubspace(sub.subspace, v).toExponential(1)).join(' ')} | singular values m0 + m1 - 1 .. m0 + m1 + 2: ${sv.slice(m0 + m1 - 2, m0 + m1 + 2).map((x) => x.toExponential(2)).join(' ')}`);
  }
}
process.exit(0);
