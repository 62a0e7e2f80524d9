/**
 * Benchmark (issue 14's time table, session 14): the second layer from the gradients. With the
 * pipeline's A-hat and theta-hat (identify without refinement, its first attempt), each gradient
 * grad f(x) = A^T D1(x) B^T s(x) gives z(x) = D1-hat(x)^-1 (A-hat^T)^+ grad f(x), which lies (up to
 * A-hat's error) in range(B^T), an m1-dimensional subspace of R^m0. Measured against the truth:
 * the singular values of the stacked z(x_j) (the gap at m1), the principal angles between their top
 * m1 right singular vectors and range(B^T) (the truth's B in A-hat's unit order and signs), and
 * the b_l after a fit of (C, tau) with B = C Q^T (A-hat, theta-hat fixed) on 4 P fresh points,
 * from several random C. The same with the truth's A and theta (the control: exact).
 *
 * Options: --points / --radius (comma lists, one gradient set each: x = 0 and points - 1 on the sphere of that radius,
 * forward differences); --starts random C per fit; --center (z's mean taken out before the SVD); --grad-weight w (the
 * C fit also matches the gradients' projections Q^T z_j, weight w); --after-full (also with A and theta of the full fit
 * as identify runs it: upper fit, 300 iterations); --full (each C fit then through identify's upper and full fits);
 * --rank-by-full N (second-layer starts: the pipeline's, the best C fit, --random K random ones, each through the upper
 * fit and N full-fit iterations, then continued to 300: does the residual after N tell the start that ends exact?).
 *
 *   npx tsx tools/bench/second-layer-gradients.ts --net 30,20,8 --act sigmoid,sigmoid --shift 1 --seeds 1,2,3 [--points 24,64] [--radius 3,1] [--starts 4]
 *
 * One JSON line per network and gradient set (and per start with --rank-by-full). Never fails on a figure.
 */
import { parseArgs } from 'node:util';
import { activation, matrix, rng, type ActivationName, type Float64View, type Network } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify, matchWeights } from '@nnid/pipeline';
import { sampleGradients, spherePoints } from '@nnid/hessian-sampler';
import { svd } from '@nnid/linalg';
import { leastSquares, normalEquationsStrategy } from '@nnid/optimize';
import { fitNetwork, FULL_FIT_PLATEAU, UPPER_FIT_PLATEAU } from '@nnid/refine';
import { fourPData } from './second-layer-data.ts';

const { values } = parseArgs({
  options: {
    net: { type: 'string', default: '30,20,8' },
    act: { type: 'string', default: 'sigmoid,sigmoid' },
    shift: { type: 'string', default: '1' },
    perturb: { type: 'string', default: '0' },
    seeds: { type: 'string', default: '1' },
    points: { type: 'string', default: '24,64' },
    radius: { type: 'string', default: '3,1' },
    starts: { type: 'string', default: '4' },
    full: { type: 'boolean', default: false },
    center: { type: 'boolean', default: false },
    'after-full': { type: 'boolean', default: false },
    'grad-weight': { type: 'string', default: '0' },
    'rank-by-full': { type: 'string', default: '0' },
    random: { type: 'string', default: '3' },
  },
});
const [d, m0, m1] = values.net.split(',').map(Number);
const [layer1, layer2] = values.act.split(',') as [ActivationName, ActivationName];
const phi1 = activation(layer1);
const phi2 = activation(layer2);
const f3 = (x: number) => +x.toFixed(3);
const g3 = (x: number) => +x.toPrecision(3);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const at = (M: Float64View, i: number, j: number) => M.data[M.offset + i * M.strides[0] + j * M.strides[1]];
const rows = (M: Float64View) => Array.from({ length: M.shape[0] }, (_, i) => Array.from({ length: M.shape[1] }, (_, j) => at(M, i, j)));
const fromRows = (R: number[][]) => {
  const M = matrix(R.length, R[0].length);
  R.forEach((r, i) => M.data.set(r, i * r.length));
  return M;
};
const stat = (c: number[]) => {
  const s = [...c].sort((a, b) => a - b);
  return { min: f3(s[0]), med: f3(s[Math.floor(s.length / 2)]) };
};

/** The truth's B (m1 x m0) in `net`'s first-layer order and signs (each A-hat row matched to its best true row). */
function trueBIn(truth: Network, net: Network): number[][] {
  const T = rows(truth.A);
  const R = rows(net.A);
  const perm = R.map((r) => {
    const c = T.map((t) => t.reduce((s, x, k) => s + x * r[k], 0) / Math.hypot(...t) / Math.hypot(...r));
    const i = c.reduce((b, x, k) => (Math.abs(x) > Math.abs(c[b]) ? k : b), 0);
    return { i, sign: Math.sign(c[i]) };
  });
  return rows(truth.B).map((b) => perm.map(({ i, sign }) => sign * b[i]));
}

/** Cosines of the principal angles between row spaces (orthonormal bases as rows). */
function principalCosines(Q1: number[][], Q2: number[][]): number[] {
  const M = fromRows(Q1.map((q) => Q2.map((p) => q.reduce((s, x, k) => s + x * p[k], 0))));
  return Array.from(svd(M).values);
}
const orthonormalRows = (R: number[][], k: number) => {
  const s = svd(fromRows(R));
  return Array.from({ length: k }, (_, c) => Array.from({ length: R[0].length }, (_, j) => at(s.right, j, c)));
};

/** z(x_j) = D1-hat(x_j)^-1 (A-hat^T)^+ g_j for each gradient row g_j (least squares on A-hat^T). */
function zOf(net: Network, X: Float64View, G: Float64View): number[][] {
  const A = rows(net.A);
  // (A A^T)^-1 A g: solve with the SVD of A^T (d x m0)
  const s = svd(fromRows(Array.from({ length: d }, (_, j) => A.map((a) => a[j]))));
  const out: number[][] = [];
  for (let r = 0; r < X.shape[0]; r++) {
    const g = Array.from({ length: d }, (_, j) => at(G, r, j));
    // w = V diag(1/s) U^T g
    const ut = Array.from({ length: m0 }, (_, c) => g.reduce((acc, x, j) => acc + at(s.left, j, c) * x, 0) / s.values[c]);
    const w = Array.from({ length: m0 }, (_, i) => ut.reduce((acc, x, c) => acc + at(s.right, i, c) * x, 0));
    const x = Array.from({ length: d }, (_, j) => at(X, r, j));
    out.push(w.map((wi, i) => wi / Math.max(1e-300, phi1.d1(A[i].reduce((acc, a, j) => acc + a * x[j], 0) + net.theta[i]))));
  }
  return out;
}

/**
 * Fit (C, tau), B = C Q^T, A and theta of `net` fixed, on the values and (weight w > 0) on the
 * gradients' projections y_j = Q^T z_j = sum_l phi2'(c_l . u_j + tau_l) c_l; returns B's rows and
 * the values' relative residual.
 */
async function fitC(
  net: Network,
  Q: number[][],
  data: { inputs: Float64View; values: Float64Array },
  C0: number[][],
  tau0: number[],
  grad: { X: Float64View; Z: number[][]; weight: number } | null,
  maxIterations = 200,
) {
  const A = rows(net.A);
  const uOf = (M: Float64View, r: number) => {
    const h = A.map((a, i) => phi1.value(a.reduce((acc, x, j) => acc + x * at(M, r, j), 0) + net.theta[i]));
    return Q.map((q) => q.reduce((acc, x, i) => acc + x * h[i], 0));
  };
  const nv = data.inputs.shape[0];
  const U = Array.from({ length: nv }, (_, r) => uOf(data.inputs, r));
  const ng = grad ? grad.X.shape[0] : 0;
  const Ug = Array.from({ length: ng }, (_, r) => uOf(grad!.X, r));
  const Y = grad ? grad.Z.map((z) => Q.map((q) => q.reduce((acc, x, i) => acc + x * z[i], 0))) : [];
  const w = grad?.weight ?? 0;
  const n = nv + ng * m1;
  const np = m1 * m1 + m1;
  const yNorm = Math.hypot(...data.values);
  let valueSq = 0;
  const resid = (p: Float64Array, J: Float64Array | null) => {
    const res = new Float64Array(n);
    for (let r = 0; r < nv; r++) {
      let f = 0;
      for (let l = 0; l < m1; l++) {
        let z = p[m1 * m1 + l];
        for (let k = 0; k < m1; k++) z += p[l * m1 + k] * U[r][k];
        f += phi2.value(z);
        if (J) {
          const dz = phi2.d1(z);
          for (let k = 0; k < m1; k++) J[r * np + l * m1 + k] = dz * U[r][k];
          J[r * np + m1 * m1 + l] = dz;
        }
      }
      res[r] = f - data.values[r];
    }
    valueSq = res.reduce((acc, x) => acc + x * x, 0);
    for (let r = 0; r < ng; r++) {
      const row0 = nv + r * m1;
      for (let k = 0; k < m1; k++) res[row0 + k] = -w * Y[r][k];
      if (J) J.fill(0, row0 * np, (row0 + m1) * np);
      for (let l = 0; l < m1; l++) {
        let z = p[m1 * m1 + l];
        for (let k = 0; k < m1; k++) z += p[l * m1 + k] * Ug[r][k];
        const s1 = phi2.d1(z);
        const s2 = phi2.d2(z);
        for (let k = 0; k < m1; k++) {
          const c = p[l * m1 + k];
          res[row0 + k] += w * s1 * c;
          if (J) {
            // d/dc_lm of s1 c_lk: s2 u_m c_lk + s1 [m = k]; d/dtau_l: s2 c_lk
            for (let m = 0; m < m1; m++) J[(row0 + k) * np + l * m1 + m] += w * s2 * Ug[r][m] * c;
            J[(row0 + k) * np + l * m1 + k] += w * s1;
            J[(row0 + k) * np + m1 * m1 + l] += w * s2 * c;
          }
        }
      }
    }
    return res;
  };
  let last = new Float64Array(n);
  const J = new Float64Array(n * np);
  const eq = {
    async evaluate(p: Float64Array) {
      const res = resid(p, J);
      last = res;
      const JtJ = matrix(np, np);
      const g = new Float64Array(np);
      for (let r = 0; r < n; r++) {
        for (let a = 0; a < np; a++) {
          const ja = J[r * np + a];
          if (ja === 0) continue;
          g[a] += ja * res[r];
          for (let b = 0; b <= a; b++) JtJ.data[a * np + b] += ja * J[r * np + b];
        }
      }
      for (let a = 0; a < np; a++) for (let b = 0; b < a; b++) JtJ.data[b * np + a] = JtJ.data[a * np + b];
      return { sumSq: res.reduce((acc, x) => acc + x * x, 0), JtJ, grad: g };
    },
    async sumOf(p: Float64Array) {
      last = resid(p, null);
      return last.reduce((acc, x) => acc + x * x, 0);
    },
    gradientAtLast() {
      const g = new Float64Array(np);
      for (let r = 0; r < n; r++) for (let a = 0; a < np; a++) g[a] += J[r * np + a] * last[r];
      return g;
    },
  };
  const x0 = new Float64Array(np);
  C0.forEach((c, l) => x0.set(c, l * m1));
  x0.set(tau0, m1 * m1);
  const { x, report } = await leastSquares(normalEquationsStrategy(eq), x0, { maxIterations, residualScale: yNorm, costTolerance: 1e-10 });
  resid(x, null);
  const B = Array.from({ length: m1 }, (_, l) => Array.from({ length: m0 }, (_, i) => Q.reduce((acc, q, k) => acc + x[l * m1 + k] * q[i], 0)));
  const tau = Array.from(x.subarray(m1 * m1));
  return { B, tau, residual: Math.sqrt(valueSq) / yNorm, total: report.relativeResidual, iterations: report.iterations };
}

for (const seed of values.seeds.split(',').map(Number)) {
  const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: { layer1, layer2 }, shiftStd: Number(values.shift), orthogonalityPerturbation: Number(values.perturb), seed });
  const oracle = createOracle(networkBlackBox(truth));
  const { network } = await identify(oracle, { width1: m0, width2: m1, activation: { layer1, layer2 }, seed, threads: 2, refine: false });
  const data = await fourPData(oracle, network, seed);
  // the full fit as identify runs it (upper fit, then 300 iterations), when asked: its A and theta
  const nets: [string, Network][] = [
    ['truth', truth],
    ['pipeline', network],
  ];
  if (values['after-full']) {
    const up = await fitNetwork(network, data, { fix: 'first-layer-weights', innerSteps: 0, maxIterations: 100, costTolerance: 1e-4, plateau: UPPER_FIT_PLATEAU });
    const r = await fitNetwork(up.network, data, { threads: 2, maxIterations: 300, plateau: FULL_FIT_PLATEAU });
    console.log(JSON.stringify({ seed, fullFit: { njev: r.report.njev, residual: g3(r.report.relativeResidual), A: stat(matchWeights(truth.A, r.network.A).cosines), B: stat(matchWeights(fromRows(trueBIn(truth, r.network)), r.network.B).cosines) } }));
    nets.push(['afterFull', r.network]);
  }
  const gradStarts: { B: number[][]; tau: number[] }[] = [];
  const radii = values.radius.split(',').map(Number);
  const counts = values.points.split(',').map(Number);
  for (let g = 0; g < radii.length; g++) {
    const X = matrix(counts[g], d, { shared: true });
    X.data.set(spherePoints(counts[g] - 1, d, radii[g], 4000 + seed).data, d); // row 0: x = 0
    const G = (await sampleGradients(oracle, X, { scheme: 'forward', threads: 1 })).gradientStack;
    for (const [who, net] of nets) {
      const c0 = cpu();
      const Zraw = zOf(net, X, G);
      // centered: the constant part of z (the mean of s_l b_l, and A-hat's error on it) out
      const mean = Zraw[0].map((_, i) => Zraw.reduce((acc, z) => acc + z[i], 0) / Zraw.length);
      const Z = values.center ? Zraw.map((z) => z.map((x, i) => x - mean[i])) : Zraw;
      const s = svd(fromRows(Z));
      const sv = Array.from(s.values);
      const Q = Array.from({ length: m1 }, (_, c) => Array.from({ length: m0 }, (_, j) => at(s.right, j, c)));
      const Btrue = trueBIn(truth, net);
      const angles = principalCosines(Q, orthonormalRows(Btrue, m1));
      const out: Record<string, unknown> = {
        seed,
        who,
        points: counts[g],
        radius: radii[g],
        sv: [sv[0], sv[m1 - 2], sv[m1 - 1], sv[m1], sv[m1 + 1]].map(g3),
        gap: g3(sv[m1 - 1] / sv[m1]),
        principalCos: { min: f3(Math.min(...angles)), all: angles.map(f3) },
        topK: [m1 + 2, m1 + 4, 2 * m1].map((k) => f3(Math.min(...principalCosines(Array.from({ length: Math.min(k, m0) }, (_, c) => Array.from({ length: m0 }, (_, j) => at(s.right, j, c))), orthonormalRows(Btrue, m1))))),
        ownB: who === 'truth' ? undefined : stat(matchWeights(fromRows(Btrue), net.B).cosines),
        A: stat(matchWeights(truth.A, net.A).cosines),
      };
      const starts: unknown[] = [];
      const stream = rng(seed).split(55);
      const gw = Number(values['grad-weight']);
      const bestFits: { B: number[][]; tau: number[]; residual: number }[] = [];
      for (let t = 0; t < Number(values.starts); t++) {
        const C0 = Array.from({ length: m1 }, (_, l) => Array.from(stream.split(t, l).fillSphere(new Float64Array(m1), 1)));
        const fit = await fitC(net, Q, data, C0, new Array(m1).fill(0), gw > 0 ? { X, Z: Zraw, weight: gw } : null);
        const bc = matchWeights(fromRows(Btrue), fromRows(fit.B)).cosines;
        let full: unknown;
        if (values.full && who !== 'truth') {
          const start: Network = { ...net, B: fromRows(fit.B), tau: Float64Array.from(fit.tau) };
          const up = await fitNetwork(start, data, { fix: 'first-layer-weights', innerSteps: 0, maxIterations: 100, costTolerance: 1e-4, plateau: UPPER_FIT_PLATEAU });
          const t1 = cpu();
          const r = await fitNetwork(up.network, data, { threads: 2, maxIterations: 300, plateau: FULL_FIT_PLATEAU });
          full = { upper: g3(up.report.relativeResidual), njev: r.report.njev, residual: g3(r.report.relativeResidual), stop: r.report.stopReason, cpu: f3(cpu() - t1) };
        }
        bestFits.push(fit);
        bestFits.sort((a, b) => a.residual - b.residual);
        starts.push({ residual: g3(fit.residual), it: fit.iterations, b: stat(bc), ...(full ? { full } : {}) });
      }
      out.fits = starts;
      out.cpu = f3(cpu() - c0);
      console.log(JSON.stringify(out));
      if (who === 'pipeline') gradStarts.push(...bestFits.slice(0, 1));
    }
  }
  // --rank-by-full N: second-layer starts (the pipeline's, the best gradient-subspace C fit, random ones) each through the
  // upper fit (identify's) and N iterations of the full fit, then continued to 300: does the residual after N (or the
  // upper fit's) tell the start that ends exact?
  const N = Number(values['rank-by-full']);
  if (N > 0) {
    const candidates: [string, Network][] = [['pipeline', network], ...gradStarts.map((g) => ['gradient', { ...network, B: fromRows(g.B), tau: Float64Array.from(g.tau) }] as [string, Network])];
    const stream = rng(seed).split(66);
    for (let t = 0; t < Number(values.random); t++) {
      const B = matrix(m1, m0);
      for (let l = 0; l < m1; l++) stream.split(t, l).fillSphere(B.data.subarray(l * m0, (l + 1) * m0), 1);
      candidates.push([`random${t}`, { ...network, B, tau: new Float64Array(m1) }]);
    }
    for (const [name, start] of candidates) {
      const t0 = cpu();
      const up = await fitNetwork(start, data, { fix: 'first-layer-weights', innerSteps: 0, maxIterations: 100, costTolerance: 1e-4, plateau: UPPER_FIT_PLATEAU });
      const first = await fitNetwork(up.network, data, { threads: 2, maxIterations: N, plateau: FULL_FIT_PLATEAU });
      const t1 = cpu();
      const rest = first.report.stopReason === 'maxIterations' ? await fitNetwork(first.network, data, { threads: 2, maxIterations: 300 - N, plateau: FULL_FIT_PLATEAU }) : first;
      console.log(
        JSON.stringify({
          seed,
          start: name,
          b0: stat(matchWeights(fromRows(trueBIn(truth, start)), start.B).cosines),
          upper: g3(up.report.relativeResidual),
          atN: g3(first.report.relativeResidual),
          njevN: first.report.njev,
          cpuToN: f3(t1 - t0),
          final: g3(rest.report.relativeResidual),
          njev: first.report.njev + (rest === first ? 0 : rest.report.njev),
          stop: rest.report.stopReason,
          cpu: f3(cpu() - t0),
        }),
      );
    }
  }
}
