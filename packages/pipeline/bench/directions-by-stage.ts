/**
 * Issue 13 (non-tanh first layers at m0 >= 6): which Hessian stage loses W1's directions. The
 * truth's exact Hessians (no finite differences, no noise) at P points drawn as identify draws them
 * (the sphere of radius R in R^d; R = identify's 'auto' radius for the first layer, or --radius),
 * in the coordinates of W1's row span (an orthonormal basis: r = m0), then identify's stages on that
 * stack: the subspace (dimension m0 + m1), the rank-one search (10 (m0 + m1) starts, threshold 0.9),
 * the attribution and the completion. Per true row a_i (unit, in those coordinates), the worst and
 * median over rows of:
 *   span     |projection of a_i a_i^T onto the subspace| (1: the stage kept it)
 *   rank1    best |cos| of a_i among the rank-one search's candidates
 *   attr     best |cos| among the attribution's first-layer rows
 *   compl    best |cos| among the completed first layer's rows
 * and alpha spread: over rows, the smallest (max_x |alpha_i(x)| / max_j max_x |alpha_j(x)|), the
 * weakest row's share of the Hessians (alpha_i(x) = phi1''(z1_i) |w_i|^2 sum_l C_l phi2'(z2_l) W2_li).
 * Generator networks (randomGeneralNetwork, random directions unless --directions orthonormal, k = 1). Never fails on a figure.
 *
 * --lift: each row the completion added (after the attribution's) taken as the start of one rank-one ascent in
 * the whole subspace (its maximizer, whatever its certificate), column 'lifted'.
 * --rules coherence,volume: the attribution's rule(s) for the first attribution, one row each (identify's: coherence; the
 * completion's rounds keep theirs).
 * --extra-dims e,...: the subspace's dimension m0 + m1 + e (identify: e = 0). --frozen: a counterfactual stack whose
 * entangled terms keep their x = 0 direction (u_l = sum_i W2_li phi1'(b1_i) w_i at every point, the paper's picture).
 *
 *   npx tsx packages/pipeline/bench/directions-by-stage.ts [--sizes '12,6,3;16,8,3'] [--pairs tanh/tanh,gelu/tanh,...] [--seeds 1-3] [--radius auto|R,...] [--points N] [--extra-dims 0] [--frozen] [--directions random|orthonormal] [--lift] [--rules coherence,volume]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { activation, matrix, rng, type ActivationName, type Float64View, type GeneralNetwork } from '@nnid/core';
import { randomGeneralNetwork } from '@nnid/oracle';
import { attributeCandidates } from '@nnid/attribution';
import { findRankOne } from '@nnid/rank1-solver';
import { estimateSubspace } from '@nnid/subspace';
import { completeFirstLayer } from '../src/completion.ts';
import { rowSpanBasis } from '../src/polish-range.ts';
import { SAMPLING } from '../src/sampling.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '12,6,3;16,8,3' },
    pairs: { type: 'string', default: 'tanh/tanh,gelu/tanh,silu/tanh,softplus/softplus,gelu_tanh/tanh' },
    seeds: { type: 'string', default: '1-3' },
    radius: { type: 'string', default: 'auto' },
    points: { type: 'string', default: 'auto' },
    'extra-dims': { type: 'string', default: '0' },
    frozen: { type: 'boolean', default: false },
    directions: { type: 'string', default: 'random' },
    lift: { type: 'boolean', default: false },
    rules: { type: 'string', default: 'coherence' },
  },
});
const [s0, s1] = values.seeds!.split('-').map(Number);

/** The exact Hessians of f at the points in the basis U's coordinates, packed (off-diagonal times sqrt 2), and each row's alpha_i(x). */
function exactStack(g: GeneralNetwork, U: Float64View, points: Float64View, frozen: boolean): { stack: Float64View; alpha: Float64Array; rows: Float64Array } {
  const { inputDim: d, width1: m0, width2: m1 } = g;
  const phi1 = activation(g.activation.layer1);
  const phi2 = activation(g.activation.layer2);
  const r = m0;
  const packed = (r * (r + 1)) / 2;
  const count = points.shape[0];
  // w_i in U's coordinates
  const w = new Float64Array(m0 * r);
  for (let i = 0; i < m0; i++) for (let a = 0; a < r; a++) for (let j = 0; j < d; j++) w[i * r + a] += g.W1.data[i * d + j] * U.data[j * r + a];
  const stack = matrix(count, packed);
  const alpha = new Float64Array(count * m0);
  const H = new Float64Array(r * r);
  const z1 = new Float64Array(m0);
  const u = new Float64Array(r);
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < m0; i++) {
      let z = g.b1[i];
      for (let j = 0; j < d; j++) z += g.W1.data[i * d + j] * points.data[n * d + j];
      z1[i] = z;
    }
    H.fill(0);
    for (let l = 0; l < m1; l++) {
      let z2 = g.b2[l];
      for (let i = 0; i < m0; i++) z2 += g.W2.data[l * m0 + i] * phi1.value(z1[i]);
      const c = g.C.data[l];
      u.fill(0);
      for (let i = 0; i < m0; i++) {
        const a = c * phi2.d1(z2) * g.W2.data[l * m0 + i] * phi1.d2(z1[i]);
        alpha[n * m0 + i] += a * (w.subarray(i * r, (i + 1) * r).reduce((s, x) => s + x * x, 0));
        for (let p = 0; p < r; p++) {
          u[p] += g.W2.data[l * m0 + i] * phi1.d1(frozen ? g.b1[i] : z1[i]) * w[i * r + p];
          for (let q = 0; q < r; q++) H[p * r + q] += a * w[i * r + p] * w[i * r + q];
        }
      }
      const b = c * phi2.d2(z2);
      for (let p = 0; p < r; p++) for (let q = 0; q < r; q++) H[p * r + q] += b * u[p] * u[q];
    }
    let col = 0;
    for (let a = 0; a < r; a++) for (let b = a; b < r; b++) stack.data[n * packed + col++] = H[a * r + b] * (a === b ? 1 : Math.SQRT2);
  }
  return { stack, alpha, rows: w };
}

/** Per true row (unit, r coordinates), the best |cos| among the rows of `found` (c x r). */
function bestCos(rows: Float64Array, m0: number, r: number, found: Float64View): number[] {
  const c = found.shape[0];
  return Array.from({ length: m0 }, (_, i) => {
    const a = rows.subarray(i * r, (i + 1) * r);
    const na = Math.hypot(...a);
    let best = 0;
    for (let t = 0; t < c; t++) {
      let dot = 0;
      let nf = 0;
      for (let p = 0; p < r; p++) {
        const f = found.data[found.offset + t * found.strides[0] + p * found.strides[1]];
        dot += a[p] * f;
        nf += f * f;
      }
      best = Math.max(best, Math.abs(dot) / (na * Math.sqrt(nf) || 1));
    }
    return best;
  });
}

/** Per true row, |projection of vec(a a^T) (packed, unit) onto the subspace's orthonormal basis rows|. */
function spanShare(rows: Float64Array, m0: number, r: number, basis: Float64View): number[] {
  const packed = (r * (r + 1)) / 2;
  const k = basis.shape[0];
  return Array.from({ length: m0 }, (_, i) => {
    const a = rows.subarray(i * r, (i + 1) * r);
    const na2 = a.reduce((s, x) => s + x * x, 0);
    const v = new Float64Array(packed);
    let col = 0;
    for (let p = 0; p < r; p++) for (let q = p; q < r; q++) v[col++] = ((a[p] * a[q]) / na2) * (p === q ? 1 : Math.SQRT2);
    let sq = 0;
    for (let t = 0; t < k; t++) {
      let dot = 0;
      for (let c = 0; c < packed; c++) dot += basis.data[basis.offset + t * basis.strides[0] + c * basis.strides[1]] * v[c];
      sq += dot * dot;
    }
    return Math.sqrt(sq);
  });
}

const minMed = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return `${s[0].toFixed(3)} / ${s[Math.floor(s.length / 2)].toFixed(3)}`;
};

console.log(`load average ${loadavg()[0].toFixed(1)}`);
console.log(`| (d, m0, m1) | pair | seed | R | points | dim | alpha spread | span | rank1 | rule | attr | compl |${values.lift ? ' lifted |' : ''}`);
console.log(`|---|---|---|---|---|---|---|---|---|---|---|---|${values.lift ? '---|' : ''}`);
for (const size of values.sizes!.split(';')) {
  const [d, m0, m1] = size.split(',').map(Number);
  for (const pair of values.pairs!.split(',')) {
    const [layer1, layer2] = pair.split('/') as ActivationName[];
    const radii = values.radius === 'auto' ? [SAMPLING[layer1].radius] : values.radius!.split(',').map(Number);
    for (let seed = s0; seed <= (s1 ?? s0); seed++) {
      const truth = randomGeneralNetwork({ inputDim: d, width1: m0, width2: m1, activation: { layer1, layer2 }, seed, directions: values.directions as 'random' | 'orthonormal' });
      const U = rowSpanBasis(truth.W1);
      const count = values.points === 'auto' ? 2 * (m0 + m1) : Number(values.points);
      for (const radius of radii) {
        const points = matrix(count, d);
        const stream = rng(seed).split(2);
        for (let n = 0; n < count; n++) stream.split(n).fillSphere(points.data.subarray(n * d, (n + 1) * d), radius);
        const { stack, alpha, rows } = exactStack(truth, U, points, values.frozen!);
        const peak = Array.from({ length: m0 }, (_, i) => Math.max(...Array.from({ length: count }, (_, n) => Math.abs(alpha[n * m0 + i]))));
        const spread = Math.min(...peak) / Math.max(...peak);
        for (const extra of values['extra-dims']!.split(',').map(Number)) {
          const k = m0 + m1 + extra;
          const subspace = estimateSubspace(stack, { layout: 'packed', dimension: k });
          const search = await findRankOne(subspace.subspace.basis, { starts: 10 * (m0 + m1), seed: 1, threshold: 0.9, threads: 1 });
          for (const rule of values.rules!.split(',') as ('coherence' | 'volume')[]) {
            const attribution = attributeCandidates(search.candidates, { width1: m0, width2: m1, certificates: search.certificates, rule });
            const completed = await completeFirstLayer(stack, attribution.firstLayerWeights, { width1: m0, subspaceDimension: k, width2: m1, seed: 1, solver: { threads: 1 } });
            let lifted = '';
            if (values.lift) {
              const rowsOut = matrix(m0, m0);
              rowsOut.data.set(completed.firstLayer.data.subarray(completed.firstLayer.offset, completed.firstLayer.offset + m0 * m0));
              for (let t = attribution.firstLayerWeights.shape[0]; t < m0; t++) {
                const start = matrix(1, m0);
                start.data.set(rowsOut.data.subarray(t * m0, (t + 1) * m0));
                const ascent = await findRankOne(subspace.subspace.basis, { startVectors: start, threshold: 0, threads: 1 });
                if (ascent.candidates.shape[0] > 0) rowsOut.data.set(ascent.candidates.data.subarray(ascent.candidates.offset, ascent.candidates.offset + m0), t * m0);
              }
              lifted = ` ${minMed(bestCos(rows, m0, m0, rowsOut))} |`;
            }
            console.log(
              `| (${d}, ${m0}, ${m1}) | ${pair} | ${seed} | ${radius} | ${count} | ${k} | ${spread.toExponential(1)} | ${minMed(spanShare(rows, m0, m0, subspace.subspace.basis))} | ${minMed(bestCos(rows, m0, m0, search.candidates))} | ${rule} | ${minMed(bestCos(rows, m0, m0, attribution.firstLayerWeights))} | ${minMed(bestCos(rows, m0, m0, completed.firstLayer))} |${lifted}`,
            );
          }
        }
      }
    }
  }
}
console.log(`load average ${loadavg()[0].toFixed(1)}`);
