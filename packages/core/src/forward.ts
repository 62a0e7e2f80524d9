/**
 * The one forward pass of the two-hidden-layer network, as kernels (they trust their arguments:
 * check at the package surface). The black box, the analytic derivatives, the shift fit and the
 * refinement all evaluate the network through these functions:
 *
 *   u = A x (firstLayerProducts, or the caller's matrix product),
 *   z1_i = u_i + theta_i,  g = phi1(z1),  g1 = phi1'(z1),
 *   z2_l = tau_l + b_l . g,  h = phi2(z2),  h1 = phi2'(z2),  f = sum_l h_l,
 *
 * and from these the derivatives: df/dx = sum_i c_i g1_i a_i with c_i = sum_l h1_l B_li
 * (outputSlopeSums), and df/dp for p = [A, theta, B, tau] (parameterJacobianRow).
 */
import type { Activation } from './activation.ts';

/**
 * The layers above the first layer's matrix product, over arrays with offsets so that a fit's
 * parameter vector serves without a copy. `B` is width2 x width1 row-major from `bAt`.
 */
export interface UpperLayers {
  readonly phi1: Activation;
  readonly phi2: Activation;
  readonly width1: number;
  readonly width2: number;
  readonly theta: Float64Array;
  readonly thetaAt: number;
  readonly B: Float64Array;
  readonly bAt: number;
  readonly tau: Float64Array;
  readonly tauAt: number;
  /**
   * Where tau_l enters z2_l: first, z2_l = ((tau_l + B_l1 g_1) + ...) (the fits), or last,
   * z2_l = (B_l1 g_1 + ...) + tau_l (the black box). The two orders round differently; each is
   * kept so that every stage gives the bits recorded before the forward pass was shared.
   */
  readonly tauFirst: boolean;
}

/** One row's intermediate values (scratch the kernels write; see the module comment). */
export interface ForwardRow {
  readonly z1: Float64Array;
  readonly g: Float64Array;
  readonly g1: Float64Array;
  readonly z2: Float64Array;
  readonly h: Float64Array;
  readonly h1: Float64Array;
}

/** Scratch for forwardRow. */
export function forwardRowScratch(width1: number, width2: number): ForwardRow {
  return {
    z1: new Float64Array(width1),
    g: new Float64Array(width1),
    g1: new Float64Array(width1),
    z2: new Float64Array(width2),
    h: new Float64Array(width2),
    h1: new Float64Array(width2),
  };
}

/**
 * Kernel: U[uAt + r m0 + i] = a_i . x_r (sums from 0, j ascending) for the rows r < `rows` of a
 * batch (row r at offset + r rowStride, entry j at + j colStride). With contiguous rows, four rows
 * share each load of A (each row's sum in the same order as alone, so the same numbers).
 */
export function firstLayerProducts(
  A: Float64Array,
  inputDim: number,
  width1: number,
  data: Float64Array,
  offset: number,
  rows: number,
  rowStride: number,
  colStride: number,
  U: Float64Array,
  uAt: number,
): void {
  const d = inputDim;
  const m0 = width1;
  let r = 0;
  if (colStride === 1) {
    for (; r + 4 <= rows; r += 4) {
      const b0 = offset + r * rowStride;
      const b1 = b0 + rowStride;
      const b2 = b1 + rowStride;
      const b3 = b2 + rowStride;
      const u0 = uAt + r * m0;
      for (let i = 0; i < m0; i++) {
        let z0 = 0;
        let z1 = 0;
        let z2 = 0;
        let z3 = 0;
        const ai = i * d;
        for (let j = 0; j < d; j++) {
          const a = A[ai + j];
          z0 += a * data[b0 + j];
          z1 += a * data[b1 + j];
          z2 += a * data[b2 + j];
          z3 += a * data[b3 + j];
        }
        U[u0 + i] = z0;
        U[u0 + m0 + i] = z1;
        U[u0 + 2 * m0 + i] = z2;
        U[u0 + 3 * m0 + i] = z3;
      }
    }
  }
  for (; r < rows; r++) {
    const base = offset + r * rowStride;
    const uo = uAt + r * m0;
    for (let i = 0; i < m0; i++) {
      let z = 0;
      const ai = i * d;
      for (let j = 0; j < d; j++) z += A[ai + j] * data[base + j * colStride];
      U[uo + i] = z;
    }
  }
}

/**
 * Kernel: one row's forward pass from its first-layer products u[uAt .. uAt + m0) into `row`;
 * returns f. The slopes g1 and h1 are written only when `slopes` is true.
 */
export function forwardRow(net: UpperLayers, u: Float64Array, uAt: number, row: ForwardRow, slopes: boolean): number {
  const { width1: m0, width2: m1, theta, thetaAt, B, bAt, tau, tauAt, tauFirst } = net;
  const { z1, g, z2, h } = row;
  for (let i = 0; i < m0; i++) z1[i] = u[uAt + i] + theta[thetaAt + i];
  net.phi1.valuesSlopes(z1, 0, m0, g, slopes ? row.g1 : null);
  for (let l = 0; l < m1; l++) {
    const bl = bAt + l * m0;
    let s = tauFirst ? tau[tauAt + l] : 0;
    for (let i = 0; i < m0; i++) s += B[bl + i] * g[i];
    z2[l] = tauFirst ? s : s + tau[tauAt + l];
  }
  net.phi2.valuesSlopes(z2, 0, m1, h, slopes ? row.h1 : null);
  let f = 0;
  for (let l = 0; l < m1; l++) f += h[l];
  return f;
}

/** Kernel: out_i = sum_l h1_l B_li (l ascending), from a forwardRow with slopes. */
export function outputSlopeSums(net: UpperLayers, row: ForwardRow, out: Float64Array): void {
  const { width1: m0, width2: m1, B, bAt } = net;
  const h1 = row.h1;
  for (let i = 0; i < m0; i++) {
    let c = 0;
    for (let l = 0; l < m1; l++) c += h1[l] * B[bAt + l * m0 + i];
    out[i] = c;
  }
}

/**
 * Kernel: df/dx for one row, grad_j = sum_i (c_i g1_i) A_ij with c = outputSlopeSums (A is
 * width1 x inputDim row-major); `grad` is overwritten.
 */
export function inputGradient(net: UpperLayers, row: ForwardRow, c: Float64Array, A: Float64Array, inputDim: number, grad: Float64Array): void {
  const d = inputDim;
  grad.fill(0, 0, d);
  for (let i = 0; i < net.width1; i++) {
    const w = c[i] * row.g1[i];
    for (let j = 0; j < d; j++) grad[j] += w * A[i * d + j];
  }
}

/**
 * Kernel: one row of df/dp into J from `at`, in the parameter order [A (width1 x inputDim) when
 * `x` is given, theta when `c` is given, B (width2 x width1), tau (width2)]:
 *   df/dA_ij = c_i g1_i x_j, df/dtheta_i = c_i g1_i, df/dB_li = h1_l g_i, df/dtau_l = h1_l,
 * with c = outputSlopeSums of a forwardRow with slopes. `x` is read at xAt + j.
 */
export function parameterJacobianRow(
  net: UpperLayers,
  row: ForwardRow,
  c: Float64Array | null,
  x: Float64Array | null,
  xAt: number,
  inputDim: number,
  J: Float64Array,
  at: number,
): void {
  const { width1: m0, width2: m1 } = net;
  const { g, g1, h1 } = row;
  let o = at;
  if (c) {
    const d = x ? inputDim : 0;
    const thetaAt = at + m0 * d;
    for (let i = 0; i < m0; i++) {
      const ci = c[i] * g1[i];
      if (x) {
        const ao = at + i * d;
        for (let j = 0; j < d; j++) J[ao + j] = ci * x[xAt + j];
      }
      J[thetaAt + i] = ci;
    }
    o = thetaAt + m0;
  }
  for (let l = 0; l < m1; l++) {
    const bo = o + l * m0;
    const hl = h1[l];
    for (let i = 0; i < m0; i++) J[bo + i] = hl * g[i];
    J[o + m0 * m1 + l] = hl;
  }
}
