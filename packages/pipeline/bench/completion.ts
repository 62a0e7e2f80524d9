/**
 * Issue 15's missing first-layer rows at (200, 100, 30), on the truth's exact Hessians (analytic, at
 * `--hessians` points of the sphere, in the truth's coordinates) and a saved start whose last rows are
 * completeFirstLayer's fill (rows orthogonal to every other row; the rest taken as found):
 * 1. the true rows the found ones miss: theta, |B column|, the RMS of their Hessian coefficient;
 * 2. Phi of the missing rows in the attempt's W-hat (dimension min(1.5 (m0 + m1), Hessians));
 * 3. the completion's search in the complement of the found rows (restricted stack) at several
 *    dimensions of its W-hat: Phi of the missing rows there, the rows the search and attribution give;
 * 4. the alternative measured and dropped: the found rows' a a^T (and the start's v v^T) projected out
 *    of every Hessian in the whole space, then the search restricted to the complement, or from
 *    starts in it.
 *
 *   npx tsx packages/pipeline/bench/completion.ts --start FILE [--sizes 200,100,30] [--hessians 132] [--seed 1] [--radius 1]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { activation, entangledWeights, matrix, parseNetwork, rng, type Float64View, type Network } from '@nnid/core';
import { complementBasis, estimateSubspace, restrictStack } from '@nnid/subspace';
import { findRankOne } from '@nnid/rank1-solver';
import { attributeCandidates } from '@nnid/attribution';
import { mapRows } from '../src/identify-geometry.ts';
import { randomNetwork } from '@nnid/oracle';
import { truthHessianStack, truthPreActivations } from './truth-hessians.ts';

const { values } = parseArgs({
  options: {
    start: { type: 'string' },
    sizes: { type: 'string', default: '200,100,30' },
    hessians: { type: 'string', default: '132' },
    seed: { type: 'string', default: '1' },
    radius: { type: 'string', default: '1' },
  },
});
const [d, m0, m1] = values.sizes!.split(',').map(Number);
const seed = Number(values.seed);
const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', seed });
const start: Network = parseNetwork(JSON.parse(readFileSync(values.start!, 'utf8')));
const phi = activation('tanh');
const r = m0;
const count = Number(values.hessians);
const radius = Number(values.radius);
const points = matrix(count, d);
for (let n = 0; n < count; n++) rng(seed).split(0x4e55, n).fillSphere(points.data.subarray(n * d, (n + 1) * d), radius);

// estimate rows in the truth's coordinates (A orthonormal: true row i = e_i)
const est = Array.from({ length: m0 }, (_, i) => {
  const u = new Float64Array(r);
  for (let a = 0; a < r; a++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += start.A.data[start.A.offset + i * d + j] * truth.A.data[a * d + j];
    u[a] = s;
  }
  return u;
});
const dot = (x: Float64Array, y: Float64Array) => x.reduce((s, v, t) => s + v * y[t], 0);
const filled = est.map((_, i) => i).filter((i) => est.every((v, j) => j === i || Math.abs(dot(v, est[i])) < 1e-8));
console.log(`load ${loadavg()[0].toFixed(1)}; filled rows: ${filled.length}`);
// true rows' best |cos| among the found (non-filled) rows
const foundRows = est.filter((_, i) => !filled.includes(i));
const best = Array.from({ length: m0 }, (_, a) => Math.max(...foundRows.map((u) => Math.abs(u[a]) / Math.hypot(...u))));
const order = best.map((b, a) => a).sort((x, y) => best[x] - best[y]);
// coefficient c_a(x) = phi''(z_a) sum_l b_la g_l, and entangled weight per point
const rms = new Float64Array(m0);
for (let n = 0; n < count; n++) {
  const z1 = truthPreActivations(truth, points.data.subarray(n * d, (n + 1) * d));
  const g = new Float64Array(m1);
  for (let l = 0; l < m1; l++) {
    let z2 = truth.tau[l];
    for (let i = 0; i < m0; i++) z2 += truth.B.data[l * m0 + i] * phi.value(z1[i]);
    g[l] = phi.d1(z2);
  }
  for (let i = 0; i < m0; i++) {
    let w = 0;
    for (let l = 0; l < m1; l++) w += truth.B.data[l * m0 + i] * g[l];
    rms[i] += (phi.d2(z1[i]) * w) ** 2 / count;
  }
}
const colNorm = (i: number) => Math.sqrt(Array.from({ length: m1 }, (_, l) => truth.B.data[l * m0 + i] ** 2).reduce((s, v) => s + v, 0));
console.log('row, best |cos| among found, theta, |B col|, rms coefficient');
for (const a of order.slice(0, 25)) console.log(a, best[a].toFixed(3), truth.theta[a].toFixed(3), colNorm(a).toFixed(3), Math.sqrt(rms[a]).toExponential(2));
const med = [...rms].map(Math.sqrt).sort((x, y) => x - y);
console.log(`rms coefficient: median ${med[m0 >> 1].toExponential(2)}, min ${med[0].toExponential(2)}, max ${med[m0 - 1].toExponential(2)}`);

/** Phi(u) = |P_W(u u^T)|^2 for a basis W (rows, packed). */
function phiOf(W: Float64View, u: Float64Array): number {
  const n = u.length;
  const cols = (n * (n + 1)) / 2;
  const vec = new Float64Array(cols);
  let col = 0;
  const nu = Math.hypot(...u);
  for (let a = 0; a < n; a++) for (let b = a; b < n; b++) vec[col++] = (u[a] * u[b] * (a === b ? 1 : Math.SQRT2)) / (nu * nu);
  let s = 0;
  for (let j = 0; j < W.shape[0]; j++) {
    let c = 0;
    for (let t = 0; t < cols; t++) c += W.data[W.offset + j * cols + t] * vec[t];
    s += c * c;
  }
  return s;
}
const stack = truthHessianStack(truth, points);
const k = Math.min(Math.round(1.5 * (m0 + m1)), count);
const full = estimateSubspace(stack, { layout: 'packed', dimension: k });
const e = (a: number) => { const u = new Float64Array(r); u[a] = 1; return u; };
const missing = order.filter((a) => best[a] < 0.5);
const phis = Array.from({ length: m0 }, (_, a) => phiOf(full.subspace.basis, e(a)));
console.log(`full W-hat dim ${k}: Phi of the missing true rows ${missing.map((a) => phis[a].toFixed(3)).join(' ')}; found rows' Phi median ${[...phis].filter((_, a) => !missing.includes(a)).sort()[43].toFixed(3)}`);
// the current completion
const F = matrix(foundRows.length, r);
foundRows.forEach((u, i) => F.data.set(u, i * r));
const Q = complementBasis(F);
const c = Q.shape[1];
const restricted = restrictStack(stack, Q, 'packed');
const qOf = (u: Float64Array) => { const y = new Float64Array(c); for (let j = 0; j < c; j++) for (let a = 0; a < r; a++) y[j] += Q.data[a * c + j] * u[a]; return y; };
const sv = estimateSubspace(restricted, { layout: 'packed', dimension: Math.min(91, count) }).report;
console.log(`restricted (c = ${c}) spectrum: ${JSON.stringify((sv as any).singularValues?.slice(0, 60).map((x: number) => +x.toExponential(1)))}`);
for (const dim of [c, c + 10, c + m1, Math.round((k / (m0 + m1)) * (c + m1)), 60]) {
  const W = estimateSubspace(restricted, { layout: 'packed', dimension: dim }).subspace.basis;
  const ph = missing.map((a) => phiOf(W, qOf(e(a))));
  const t = performance.now();
  const search = await findRankOne(W, { threads: 1, starts: 10 * (c + m1), seed: 5, threshold: 0 });
  const att = attributeCandidates(search.candidates, { width1: c, certificates: search.certificates });
  const got = mapRows(att.firstLayerWeights, Q);
  const cos = missing.map((a) => { let b = 0; for (let i = 0; i < got.shape[0]; i++) b = Math.max(b, Math.abs(got.data[i * r + a])); return b; });
  console.log(`dim ${dim}: Phi of true missing (restricted) ${ph.map((x) => x.toFixed(2)).join(' ')}; search ${search.candidates.shape[0]} candidates, first layer ${got.shape[0]}, best |cos| per missing row ${cos.map((x) => x.toFixed(2)).join(' ')} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
}

// deflation: the found rows' a a^T and the start's entangled v v^T projected out of every Hessian (full space)
{
  const packed = (r * (r + 1)) / 2;
  const vecOf = (u: Float64Array) => { const v = new Float64Array(packed); let col = 0; const nu = dot(u, u); for (let a = 0; a < r; a++) for (let b = a; b < r; b++) v[col++] = (u[a] * u[b] * (a === b ? 1 : Math.SQRT2)) / nu; return v; };
  const V = entangledWeights(start); // m1 x d
  const vRows = Array.from({ length: V.shape[0] }, (_, l) => { const u = new Float64Array(r); for (let a = 0; a < r; a++) for (let j = 0; j < d; j++) u[a] += V.data[V.offset + l * d + j] * truth.A.data[a * d + j]; return u; });
  for (const withV of [false, true]) {
    const dirs: Float64Array[] = [];
    for (const u of [...foundRows, ...(withV ? vRows : [])]) {
      const w = vecOf(u);
      for (let pass = 0; pass < 2; pass++) for (const q of dirs) { const c = dot(q, w); for (let t = 0; t < packed; t++) w[t] -= c * q[t]; }
      const n = Math.sqrt(dot(w, w)); if (n < 1e-8) continue; for (let t = 0; t < packed; t++) w[t] /= n; dirs.push(w);
    }
    const R = matrix(count, packed);
    R.data.set(stack.data);
    for (let n = 0; n < count; n++) { const h = R.data.subarray(n * packed, (n + 1) * packed); for (const q of dirs) { const c = dot(q, h); for (let t = 0; t < packed; t++) h[t] -= c * q[t]; } }
    const spec = estimateSubspace(R, { layout: 'packed', dimension: 1 }).report.singularValues;
    console.log(`deflated${withV ? ' (rows and v_l)' : ' (rows)'}: spectrum ${spec.slice(0, 50).map((x: number) => x.toExponential(1)).join(' ')}`);
    for (const dim of [13, 20, 30, 44]) {
      const W = estimateSubspace(R, { layout: 'packed', dimension: dim }).subspace.basis;
      const ph = missing.map((a) => phiOf(W, e(a)));
      const t = performance.now();
      const search = await findRankOne(W, { threads: 1, starts: 10 * (c + m1), seed: 5, threshold: 0, restrictTo: Q });
      const att = attributeCandidates(search.candidates, { width1: c, certificates: search.certificates });
      const got = mapRows(att.firstLayerWeights, Q);
      const cos = missing.map((a) => { let b = 0; for (let i = 0; i < got.shape[0]; i++) b = Math.max(b, Math.abs(got.data[i * r + a])); return b; });
      const search2 = await findRankOne(W, { threads: 1, starts: 10 * (c + m1), seed: 5, threshold: 0, startVectors: (() => { const S = matrix(10 * (c + m1), r); const g = rng(9); const y = new Float64Array(c); for (let s2 = 0; s2 < S.shape[0]; s2++) { g.split(s2).fillNormal(y); for (let a = 0; a < r; a++) { let v = 0; for (let j = 0; j < c; j++) v += Q.data[a * c + j] * y[j]; S.data[s2 * r + a] = v; } } return S; })() });
      const cos2 = missing.map((a) => { let b = 0; for (let i = 0; i < search2.candidates.shape[0]; i++) { let nn = 0; for (let t2 = 0; t2 < r; t2++) nn += search2.candidates.data[i * r + t2] ** 2; if (search2.certificates[i] > 0.5) b = Math.max(b, Math.abs(search2.candidates.data[i * r + a]) / Math.sqrt(nn)); } return b; });
      console.log(`  dim ${dim}: Phi of true missing ${ph.map((x) => x.toFixed(2)).join(' ')}; restricted search: first layer ${got.shape[0]}, |cos| ${cos.map((x) => x.toFixed(2)).join(' ')}; full-space search from complement starts: ${search2.candidates.shape[0]} candidates, best |cos| ${cos2.map((x) => x.toFixed(2)).join(' ')} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    }
  }
}
