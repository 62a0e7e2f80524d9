/**
 * The matrix-free solver (issue 15): J v and J^T w through the layers (jacobian-operator.ts) are
 * the formed Jacobian's products; its preconditioner's blocks are J^T J's; from the same start on
 * the same data it reaches the dense solver's minimum (weights to 1e-10), paper and general form;
 * the same bits for 1 and 2 threads; and a fit at P ~ 6,000 in a child process whose peak memory
 * stays below 8 P^2 bytes (one P x P matrix).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generalParameterCount, matrix, matrixFrom, parameterCount, rng, type GeneralNetwork } from '@nnid/core';
import { leastSquares, matrixFreeStrategy } from '@nnid/optimize';
import { evaluateGeneral, evaluateNetwork, randomGeneralNetwork, randomNetwork } from '@nnid/oracle';
import { fitGeneralNetwork, fitNetwork, generalLayoutOf, layoutOf, packGeneral, packParameters, unpackGeneral } from '@nnid/refine';
import { perturb } from './helpers.ts';
import { residualsAndJacobian } from '../src/params.ts';
import { generalResiduals } from '../src/general.ts';
import { networkOperator, operatorRowBlocks, OPERATOR_ROW_BLOCKS } from '../src/jacobian-operator.ts';
import { createRefinePool } from '../src/pool.ts';
import { checkSolver, DENSE_MEMORY_LIMIT, denseSolverBytes } from '../src/solver-options.ts';

function gaussian(n: number, d: number, seed: number) {
  const X = matrix(n, d);
  rng(seed).fillNormal(X.data);
  return X;
}

function perturbGeneral(net: GeneralNetwork, eps: number, seed: number): GeneralNetwork {
  const layout = generalLayoutOf(net);
  const p = packGeneral(net, layout);
  const s = rng(seed);
  for (let k = 0; k < p.length; k++) p[k] += eps * s.normal();
  return unpackGeneral(p, layout);
}

const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0);
const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** J v and J^T w of the formed J (rows x F, row-major). */
function products(J: Float64Array, rows: number, F: number, v: Float64Array, w: Float64Array) {
  const Jv = new Float64Array(rows);
  const Jtw = new Float64Array(F);
  for (let n = 0; n < rows; n++) {
    for (let k = 0; k < F; k++) {
      Jv[n] += J[n * F + k] * v[k];
      Jtw[k] += J[n * F + k] * w[n];
    }
  }
  return { Jv, Jtw };
}

/** The operator's blocks against J^T J's entries, and their diagonals against the column norms. */
async function checkOperator(op: ReturnType<typeof networkOperator>, x: Float64Array, J: Float64Array, r: Float64Array, rows: number) {
  const F = op.freeParameters;
  const lin = await op.linearize(x);
  expect(maxDiff(lin.residuals, r)).toBeLessThan(1e-13);
  const v = new Float64Array(F);
  rng(9).fillNormal(v);
  const w = new Float64Array(rows);
  rng(10).fillNormal(w);
  const want = products(J, rows, F, v, w);
  expect(maxDiff(await op.apply(v), want.Jv)).toBeLessThan(1e-12 * maxAbs(want.Jv));
  expect(maxDiff(await op.applyTranspose(w), want.Jtw)).toBeLessThan(1e-12 * maxAbs(want.Jtw));
  const blocks = lin.blocks!;
  const covered = new Set<number>();
  let big = 0;
  blocks.indices.forEach((idx, b) => {
    for (let s = 0; s < idx.length; s++) {
      covered.add(idx[s]);
      for (let t = 0; t < idx.length; t++) {
        let jtj = 0;
        for (let n = 0; n < rows; n++) jtj += J[n * F + idx[s]] * J[n * F + idx[t]];
        big = Math.max(big, Math.abs(blocks.grams[b][s * idx.length + t] - jtj) / (Math.abs(jtj) + 1));
      }
    }
  });
  expect(big).toBeLessThan(1e-12);
  expect(covered.size).toBe(F);
}

/** The paper-form fixture of the operator tests: (7, 5, 3) tanh/sigmoid, N Gaussian inputs, random targets, its formed J (N x P) and residuals. */
function paperFixture(N: number) {
  const net = randomNetwork({ inputDim: 7, width1: 5, width2: 3, activation: { layer1: 'tanh', layer2: 'sigmoid' }, seed: 2 });
  const layout = layoutOf(net);
  const p = packParameters(net, layout);
  const X = gaussian(N, 7, 3).data;
  const y = new Float64Array(N);
  rng(4).fillNormal(y);
  const J = new Float64Array(N * layout.size);
  const r = new Float64Array(N);
  residualsAndJacobian(p, layout, X, y, r, J);
  return { layout, p, X, y, J, r };
}

/** The general-form fixture: (6, 4, 3) sigmoid/tanh with k = 3 outputs, N Gaussian inputs, random targets, U = X W1^T, its formed J (3 N x P) and residuals. */
function generalFixture(N: number) {
  const net = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 3, outputs: 3, activation: { layer1: 'sigmoid', layer2: 'tanh' }, seed: 5 });
  const layout = generalLayoutOf(net);
  const p = packGeneral(net, layout);
  const X = gaussian(N, 6, 6).data;
  const Y = new Float64Array(N * 3);
  rng(7).fillNormal(Y);
  const U = new Float64Array(N * 4);
  for (let n = 0; n < N; n++) for (let i = 0; i < 4; i++) for (let j = 0; j < 6; j++) U[n * 4 + i] += p[i * 6 + j] * X[n * 6 + j];
  const J = new Float64Array(N * 3 * layout.size);
  const r = new Float64Array(N * 3);
  generalResiduals(p, layout, X, U, Y, N, r, J, 0);
  return { layout, p, X, Y, U, J, r };
}

describe('networkOperator', () => {
  it("paper form: J v, J^T w and the blocks are the formed Jacobian's (all parameters, theta free, second layer only)", async () => {
    const N = 40;
    const { layout, p, X, y, J, r } = paperFixture(N);
    const P = layout.size;
    for (const [free, first] of [['weights-and-shifts', 0], ['shifts', layout.offTheta], ['none', layout.offB]] as const) {
      const F = P - first;
      const Jf = new Float64Array(N * F);
      for (let n = 0; n < N; n++) Jf.set(J.subarray(n * P + first, (n + 1) * P), n * F);
      const op = networkOperator({ layout, p, free, X, Y: y, N });
      expect(op.freeParameters).toBe(F);
      await checkOperator(op, p.slice(first), Jf, r, N);
    }
  });

  it("general form, k = 3: the same, with W1's row norms free ('shifts-and-scales')", async () => {
    const N = 30;
    const k = 3;
    const { layout, p, X, Y, U, J, r } = generalFixture(N);
    const P = layout.size;
    await checkOperator(networkOperator({ layout, p, free: 'weights-and-shifts', X, Y, N }), p, J, r, N * k);
    // W1 = diag(s) A0: the free vector [b1, W2, b2, C, c, s]; df/ds_i = df/db1_i (a0_i . x)
    const s = new Float64Array(4);
    const unit = Float64Array.from(p);
    for (let i = 0; i < 4; i++) {
      s[i] = Math.hypot(...p.subarray(i * 6, i * 6 + 6));
      for (let j = 0; j < 6; j++) unit[i * 6 + j] /= s[i];
    }
    const first = layout.offTheta;
    const F = P - first + 4;
    const Js = new Float64Array(N * k * F);
    for (let q = 0; q < N * k; q++) {
      Js.set(J.subarray(q * P + first, (q + 1) * P), q * F);
      const n = Math.floor(q / k);
      for (let i = 0; i < 4; i++) Js[q * F + P - first + i] = J[q * P + first + i] * (U[n * 4 + i] / s[i]);
    }
    const x = new Float64Array(F);
    x.set(p.subarray(first));
    x.set(s, P - first);
    await checkOperator(networkOperator({ layout, p: unit, free: 'shifts-and-scales', X, Y, N }), x, Js, r, N * k);
  });
});

describe('networkOperator in row blocks (2 threads)', () => {
  it("2 row blocks: the formed Jacobian's products (paper form, general k = 3 with row norms free); in the refine pool's worker the same bits as in this thread, fit included", async () => {
    expect(operatorRowBlocks(1000, 1000)).toBe(1);
    expect(operatorRowBlocks(24_700, 6_070)).toBe(OPERATOR_ROW_BLOCKS);
    const { layout, p, X, y, J, r } = paperFixture(41);
    await checkOperator(networkOperator({ layout, p, free: 'weights-and-shifts', X, Y: y, N: 41, rowBlocks: 2 }), p, J, r, 41);

    const g = generalFixture(31);
    await checkOperator(networkOperator({ layout: g.layout, p: g.p, free: 'weights-and-shifts', X: g.X, Y: g.Y, N: 31, rowBlocks: 2, secondLayerBlock: 'units' }), g.p, g.J, g.r, 31 * 3);

    // the same fit with the second block in a worker thread: the same bits
    const truth = randomNetwork({ inputDim: 10, width1: 5, width2: 3, activation: 'tanh', seed: 70 });
    const tl = layoutOf(truth);
    const Nt = 4 * tl.size;
    const Xt = gaussian(Nt, 10, 71).data;
    const yt = evaluateNetwork(truth, matrixFrom(Xt, Nt, 10));
    const start = packParameters(perturb(truth, 0.02, 72), tl);
    const options = { residualScale: Math.hypot(...yt), residualTolerance: 1e-14 };
    const here = await leastSquares(matrixFreeStrategy(networkOperator({ layout: tl, p: start, free: 'weights-and-shifts', X: Xt, Y: yt, N: Nt, rowBlocks: 2 })), start, options);
    const pool = createRefinePool({ threads: 1 });
    try {
      // the preconditioner's blocks (per unit: half of the units in the worker; the second layer whole: its second row block's part there): the same bits
      for (const secondLayerBlock of ['units', 'auto'] as const) {
        const one = await networkOperator({ layout: tl, p: start, free: 'weights-and-shifts', X: Xt, Y: yt, N: Nt, rowBlocks: 2, secondLayerBlock }).linearize(start);
        const two = await networkOperator({ layout: tl, p: start, free: 'weights-and-shifts', X: Xt, Y: yt, N: Nt, rowBlocks: 2, secondLayerBlock, pool }).linearize(start);
        expect(two.blocks!.grams.length).toBe(one.blocks!.grams.length);
        two.blocks!.grams.forEach((g, b) => expect(Array.from(g.subarray(0, one.blocks!.grams[b].length))).toEqual(Array.from(one.blocks!.grams[b])));
      }
      const op = networkOperator({ layout: tl, p: start, free: 'weights-and-shifts', X: Xt, Y: yt, N: Nt, rowBlocks: 2, pool });
      const there = await leastSquares(matrixFreeStrategy(op), start, options);
      expect(Array.from(there.x)).toEqual(Array.from(here.x));
      expect(there.report.residualHistory).toEqual(here.report.residualHistory);
    } finally {
      await pool.close();
    }
    expect(here.report.success).toBe(true);
    expect(maxDiff(here.x, packParameters(truth, tl))).toBeLessThan(1e-10);
  });
});

describe('networkOperator, blocks from every s-th row', () => {
  it("keeps J's column norms exact and the fit still reaches the truth", async () => {
    const truth = randomNetwork({ inputDim: 10, width1: 5, width2: 3, activation: 'tanh', seed: 70 });
    const layout = layoutOf(truth);
    const P = layout.size;
    const N = 4 * P;
    const X = gaussian(N, 10, 71).data;
    const y = evaluateNetwork(truth, matrixFrom(X, N, 10));
    const start = packParameters(perturb(truth, 0.02, 72), layout);
    const J = new Float64Array(N * P);
    const r = new Float64Array(N);
    residualsAndJacobian(start, layout, X, y, r, J);
    const op = networkOperator({ layout, p: start, free: 'weights-and-shifts', X, Y: y, N, blockFlops: 1000 });
    const { columnNormsSquared, blocks } = await op.linearize(start);
    for (let k = 0; k < P; k++) {
      let c = 0;
      for (let n = 0; n < N; n++) c += J[n * P + k] ** 2;
      expect(Math.abs(columnNormsSquared[k] - c)).toBeLessThan(1e-12 * c);
    }
    // a subsample's Gram: its off-diagonal entries differ from J^T J's
    const idx = blocks!.indices[0];
    let jtj = 0;
    for (let n = 0; n < N; n++) jtj += J[n * P + idx[0]] * J[n * P + idx[1]];
    expect(Math.abs(blocks!.grams[0][1] - jtj)).toBeGreaterThan(1e-9);
    const { x, report } = await leastSquares(matrixFreeStrategy(op), start, { residualScale: Math.hypot(...y), residualTolerance: 1e-14 });
    expect(report.success).toBe(true);
    expect(maxDiff(x, packParameters(truth, layout))).toBeLessThan(1e-10);
  });
});

describe("solver 'matrix-free'", () => {
  it("paper form: reaches the dense solver's minimum (weights to 1e-10) with fewer CG iterations than Jacobi; 1 and 2 threads give the same bits", async () => {
    const truth = randomNetwork({ inputDim: 16, width1: 8, width2: 4, activation: 'tanh', seed: 11 });
    const P = parameterCount(truth);
    const inputs = gaussian(4 * P, 16, 12);
    const data = { inputs, values: evaluateNetwork(truth, inputs) };
    const start = perturb(truth, 0.03, 13);
    const layout = layoutOf(truth);
    const dense = await fitNetwork(start, data, {});
    const free = await fitNetwork(start, data, { solver: 'matrix-free' });
    const jacobi = await fitNetwork(start, data, { solver: 'matrix-free', matrixFree: { preconditioner: 'jacobi' } });
    expect(dense.report.strategy).toBe('normal-equations');
    expect(free.report.strategy).toBe('matrix-free-cg');
    expect(free.report.success && dense.report.success && jacobi.report.success).toBe(true);
    const w = packParameters(truth, layout);
    expect(maxDiff(packParameters(free.network, layout), packParameters(dense.network, layout))).toBeLessThan(1e-10);
    expect(maxDiff(packParameters(free.network, layout), w)).toBeLessThan(1e-10);
    const stats = free.report.strategyStats!;
    expect(stats.preconditionerBlocks).toBe(8 + 1);
    expect(stats.unconvergedSolves).toBe(0);
    expect(stats.cgIterations).toBeLessThan(jacobi.report.strategyStats!.cgIterations);
    expect(jacobi.report.strategyStats!.preconditionerBlocks).toBe(0);
    const two = await fitNetwork(start, data, { solver: 'matrix-free', threads: 2 });
    expect(Array.from(packParameters(two.network, layout))).toEqual(Array.from(packParameters(free.network, layout)));
    expect(two.report.residualHistory).toEqual(free.report.residualHistory);
  });

  for (const outputs of [1, 3]) {
    it(`general form, k = ${outputs}: reaches the dense solver's minimum (weights to 1e-10), all parameters`, async () => {
      const truth = randomGeneralNetwork({ inputDim: 8, width1: 5, width2: 3, outputs, activation: 'tanh', seed: 20 + outputs });
      const inputs = gaussian(6 * generalParameterCount(truth), 8, 30 + outputs);
      const values = evaluateGeneral(truth, inputs);
      const start = perturbGeneral(truth, 0.03, 40 + outputs);
      const dense = await fitGeneralNetwork(start, { inputs, values });
      const free = await fitGeneralNetwork(start, { inputs, values }, { solver: 'matrix-free' });
      expect(free.report.strategy).toBe('matrix-free-cg');
      expect(dense.report.success && free.report.success).toBe(true);
      const layout = generalLayoutOf(truth);
      const a = packGeneral(dense.network, layout);
      const b = packGeneral(free.network, layout);
      expect(maxDiff(a, b)).toBeLessThan(1e-10);
      expect(maxDiff(b, packGeneral(truth, layout))).toBeLessThan(1e-10);
    });
  }

  it("general form with W1's directions fixed: the dense solver's network to 1e-8 (a nonzero minimum), W1's directions kept", async () => {
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 5, width2: 3, outputs: 1, activation: 'tanh', seed: 50 });
    const inputs = gaussian(6 * generalParameterCount(truth), 8, 51);
    const values = evaluateGeneral(truth, inputs);
    const start = perturbGeneral(truth, 0.01, 52);
    const dense = await fitGeneralNetwork(start, { inputs, values }, { fix: 'first-layer-directions' });
    const free = await fitGeneralNetwork(start, { inputs, values }, { fix: 'first-layer-directions', solver: 'matrix-free', matrixFree: { forcing: 'fixed' } });
    expect(dense.report.success && free.report.success).toBe(true);
    expect(Math.abs(free.report.relativeResidual - dense.report.relativeResidual)).toBeLessThan(1e-10 * dense.report.relativeResidual + 1e-15);
    const layout = generalLayoutOf(truth);
    expect(maxDiff(packGeneral(free.network, layout), packGeneral(dense.network, layout))).toBeLessThan(1e-8);
    for (let i = 0; i < 5; i++) {
      const a = start.W1.data.subarray(i * 8, i * 8 + 8);
      const b = free.network.W1.data.subarray(i * 8, i * 8 + 8);
      const cos = a.reduce((s, v, j) => s + v * b[j], 0) / (Math.hypot(...a) * Math.hypot(...b));
      expect(Math.abs(cos - 1)).toBeLessThan(1e-14);
    }
  });

  it("'auto' takes the dense solver on a small fit; bad solver names are refused in the house template", async () => {
    const truth = randomNetwork({ inputDim: 6, width1: 3, width2: 2, activation: 'tanh', seed: 60 });
    const inputs = gaussian(60, 6, 61);
    const data = { inputs, values: evaluateNetwork(truth, inputs) };
    const auto = await fitNetwork(perturb(truth, 0.02, 62), data, { solver: 'auto' });
    expect(auto.report.strategy).toBe('normal-equations');
    // (100, 50, 20) on 4 P rows: dense (~2 GB); (200, 100, 30) on 4 P rows: matrix-free (~30 GB dense)
    expect(checkSolver({ solver: 'auto' }, 4 * 6070, 6070).solver).toBe('normal-equations');
    expect(checkSolver({ solver: 'auto' }, 4 * 23130, 23130).solver).toBe('matrix-free');
    expect(denseSolverBytes(4 * 23130, 23130)).toBeGreaterThan(DENSE_MEMORY_LIMIT);
    const general = randomGeneralNetwork({ inputDim: 6, width1: 3, width2: 2, outputs: 1, activation: 'tanh', seed: 63 });
    await expect(fitGeneralNetwork(general, { inputs, values: data.values }, { solver: 'cg' as 'auto' })).rejects.toThrow(
      "invalid argument. `solver` must be one of 'normal-equations', 'matrix-free', 'auto'. Value: `cg`.",
    );
    await expect(fitNetwork(truth, data, { solver: 'matrix-free', matrixFree: { preconditioner: 'ilu' as 'blocks' } })).rejects.toThrow(
      "invalid argument. `preconditioner` must be one of 'auto', 'blocks', 'jacobi'. Value: `ilu`.",
    );
  });

  // ~35 s of CPU on the native tier, ~55 s on the TypeScript tier (BENCHMARKS.md)
  it('fits P = 6,070 parameters in a child process with peak memory below 8 P^2 bytes (one P x P matrix), and converges', () => {
    const script = fileURLToPath(new URL('./large-fit.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 840_000 });
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(out.parameters).toBe(6070);
    expect(out.success).toBe(true);
    expect(out.relativeResidual).toBeLessThan(1e-8);
    expect(out.relativeResidual).toBeLessThan(1e-2 * out.initialRelativeResidual);
    expect(out.maxParameterError).toBeLessThan(0.1 * out.initialParameterError);
    expect(out.maxRSS).toBeLessThan(8 * out.parameters ** 2);
  }, 900_000);
});
