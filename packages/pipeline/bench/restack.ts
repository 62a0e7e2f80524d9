/**
 * Issue 15's crawl at (200, 100, 30): can the Hessian stack the pipeline already paid for give
 * better first-layer rows once an estimate's entangled term is subtracted from it (no new query)?
 * Each Hessian is sum_i c_i(x) a_i a_i^T + sum_l beta_l(x) v_l(x) v_l(x)^T; the second sum moves
 * with x and contaminates the span the rank-one search looks in. With an estimate of the network
 * (the pipeline's start, v_l median |cos| 0.998 there), second-pass.ts's subtractEntangled takes
 * most of it out. This bench builds the truth's exact Hessians (analytic, in range(A)'s coordinates:
 * the truth's orthonormal rows) at the pipeline's count of points on the sphere, then the
 * directions (subspace of dimension m0, rank-one search from the estimate's rows and 10 (m0 + m1)
 * random starts: directionsFromStack) from the raw stack and from the stack minus the estimate's
 * entangled term, each scored by |cos| against the true rows; and the completion's filled rows
 * (orthogonal to every other row) rotated within their span by a joint diagonalization of the
 * Hessians restricted to it (rotateFilled), raw and with the entangled term subtracted.
 *
 *   npx tsx packages/pipeline/bench/restack.ts --start FILE [--sizes 200,100,30] [--hessians 132] [--seed 1] [--threads 2]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { matrix, parseNetwork, rng, toGeneral, type Float64View, type Network } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { matchWeights } from '@nnid/pipeline';
import { directionsFromStack, subtractEntangled } from '../src/second-pass.ts';
import { truthHessianStack } from './truth-hessians.ts';

const { values } = parseArgs({
  options: {
    start: { type: 'string' },
    sizes: { type: 'string', default: '200,100,30' },
    hessians: { type: 'string', default: '132' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    radius: { type: 'string', default: '1' },
  },
});
const [d, m0, m1] = values.sizes!.split(',').map(Number);
const seed = Number(values.seed);
const threads = Number(values.threads);
const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', seed });
const start: Network = parseNetwork(JSON.parse(readFileSync(values.start!, 'utf8')));
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

// range(A)'s basis: the truth's rows are orthonormal, U = A^T (d x m0); coordinates y = U^T x
const r = m0;
const U = matrix(d, r);
for (let j = 0; j < d; j++) for (let a = 0; a < r; a++) U.data[j * r + a] = truth.A.data[a * d + j];
const count = Number(values.hessians);
const points = matrix(count, d);
const radius = Number(values.radius);
for (let n = 0; n < count; n++) rng(seed).split(0x4e55, n).fillSphere(points.data.subarray(n * d, (n + 1) * d), radius);

/** The estimate's rows in U's coordinates (m0 x r). */
const estimateRows = matrix(m0, r);
for (let i = 0; i < m0; i++) for (let a = 0; a < r; a++) {
  let s = 0;
  for (let j = 0; j < d; j++) s += start.A.data[start.A.offset + i * d + j] * U.data[j * r + a];
  estimateRows.data[i * r + a] = s;
}
const identity = matrix(m0, r);
for (let i = 0; i < m0; i++) identity.data[i * r + i] = 1;
const worst = (c: number[]) => [...c].sort((x, y) => x - y).slice(0, 6).map((x) => x.toFixed(3)).join(', ');
const describe = (c: number[]) => `worst ${worst(c)}; below 0.9: ${c.filter((x) => x < 0.9).length}, below 0.99: ${c.filter((x) => x < 0.99).length}, below 0.999: ${c.filter((x) => x < 0.999).length} of ${m0}`;
console.log(`(${d}, ${m0}, ${m1}), ${count} Hessians at radius ${radius}; load ${loadavg()[0].toFixed(1)}`);
console.log(`estimate (the start): ${describe(matchWeights(identity, estimateRows).cosines)}`);
/** Unpacks row n of a packed stack (r x r, off-diagonal entries / sqrt 2). */
function unpack(stack: Float64View, n: number): Float64Array {
  const packed = (r * (r + 1)) / 2;
  const H = new Float64Array(r * r);
  let col = 0;
  for (let a = 0; a < r; a++) for (let b = a; b < r; b++) {
    const v = stack.data[n * packed + col++] / (a === b ? 1 : Math.SQRT2);
    H[a * r + b] = v;
    H[b * r + a] = v;
  }
  return H;
}

/**
 * The completion's filled rows (completeFirstLayer: "the rest of an orthonormal basis", orthogonal to
 * every other row) rotated within their span by joint diagonalization (Jacobi rotations,
 * Cardoso-Souloumiac) of the Hessians restricted to it: there each Hessian is sum_i c_i u_i u_i^T over
 * the missing rows (plus the entangled term's part), u_i orthonormal when A's rows are.
 */
function rotateFilled(stack: Float64View, rows: Float64Array[]): { rows: Float64Array[]; filled: number[] } {
  const filled = rows.map((_, i) => i).filter((i) => rows.every((v, j) => j === i || Math.abs(v.reduce((s, x, t) => s + x * rows[i][t], 0)) < 1e-8));
  const k = filled.length;
  if (k < 2) return { rows, filled };
  const S = filled.map((i) => rows[i]);
  const D: Float64Array[] = [];
  for (let n = 0; n < count; n++) {
    const H = unpack(stack, n);
    const M = new Float64Array(k * k);
    for (let p = 0; p < k; p++) for (let q = 0; q < k; q++) {
      let acc = 0;
      for (let a = 0; a < r; a++) {
        let h = 0;
        for (let b = 0; b < r; b++) h += H[a * r + b] * S[q][b];
        acc += S[p][a] * h;
      }
      M[p * k + q] = acc;
    }
    D.push(M);
  }
  const V = new Float64Array(k * k);
  for (let p = 0; p < k; p++) V[p * k + p] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let rotated = false;
    for (let p = 0; p < k - 1; p++) for (let q = p + 1; q < k; q++) {
      let g11 = 0, g12 = 0, g22 = 0;
      for (const M of D) {
        const h1 = M[p * k + p] - M[q * k + q];
        const h2 = 2 * M[p * k + q];
        g11 += h1 * h1; g12 += h1 * h2; g22 += h2 * h2;
      }
      const ton = g11 - g22;
      const toff = 2 * g12;
      const theta = 0.5 * Math.atan2(toff, ton + Math.hypot(ton, toff));
      const c = Math.cos(theta), sn = Math.sin(theta);
      if (Math.abs(sn) < 1e-12) continue;
      rotated = true;
      for (const M of D) {
        for (let t = 0; t < k; t++) {
          const a = M[t * k + p], b = M[t * k + q];
          M[t * k + p] = c * a + sn * b; M[t * k + q] = -sn * a + c * b;
        }
        for (let t = 0; t < k; t++) {
          const a = M[p * k + t], b = M[q * k + t];
          M[p * k + t] = c * a + sn * b; M[q * k + t] = -sn * a + c * b;
        }
      }
      for (let t = 0; t < k; t++) {
        const a = V[t * k + p], b = V[t * k + q];
        V[t * k + p] = c * a + sn * b; V[t * k + q] = -sn * a + c * b;
      }
    }
    if (!rotated) break;
  }
  const out = rows.map((v) => Float64Array.from(v));
  filled.forEach((i, p) => {
    const u = new Float64Array(r);
    for (let q = 0; q < k; q++) for (let a = 0; a < r; a++) u[a] += V[q * k + p] * S[q][a];
    out[i] = u;
  });
  return { rows: out, filled };
}

const ownRows = Array.from({ length: m0 }, (_, i) => estimateRows.data.slice(i * r, (i + 1) * r));
for (const sub of [false, true]) {
  const stack = truthHessianStack(truth, points);
  if (sub) subtractEntangled(stack, points, toGeneral(start), U);
  const t = cpu();
  const { rows, filled } = rotateFilled(stack, ownRows);
  const rotatedView = matrix(m0, r);
  rows.forEach((u, i) => rotatedView.data.set(u, i * r));
  const cos = matchWeights(identity, rotatedView).cosines;
  console.log(`filled rows rotated by joint diagonalization${sub ? ' (stack minus the estimate\'s entangled term)' : ''}: ${filled.length} rows; ${describe(cos)}; ${(cpu() - t).toFixed(1)} CPU s`);
}

for (const mode of ['raw', 'minus the estimate\'s entangled term']) {
  const stack = truthHessianStack(truth, points);
  if (mode !== 'raw') subtractEntangled(stack, points, toGeneral(start), U);
  const t = cpu();
  const found = await directionsFromStack(stack, estimateRows, { seed, threads });
  console.log(`${mode}: rows replaced ${found.replaced}; ${describe(matchWeights(identity, found.directions).cosines)}; ${(cpu() - t).toFixed(1)} CPU s; spectrum at m0-1, m0, m0+1: ${found.spectrum.slice(m0 - 2, m0 + 1).map((x) => x.toExponential(2)).join(', ')}`);
}
