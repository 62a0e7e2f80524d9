/**
 * The shift model with A-hat fixed (kernels; trust their inputs):
 *   f(x) = sum_l phi2( sum_i b_li phi1(a_i.x + theta_i) + tau_l ),  b_li = lambda_l w_li / phi1'(theta_i)
 * where w_l = coefficients of v_l in the rows of A-hat (A^T w_l = v_l), so that
 * A^T G_0 b_l = lambda_l v_l with G_0 = diag(phi1'(theta)).
 * Parameters p = [theta (m0), tau (m1), lambda (m1)].
 */
import { forwardRow, forwardRowScratch, outputSlopeSums, type Activation, type UpperLayers } from '@nnid/core';

export interface ShiftModel {
  m0: number;
  m1: number;
  phi1: Activation;
  phi2: Activation;
  /** m1 x m0 row-major: w_li. */
  w: Float64Array;
  /** N x m0 row-major: z_ni = a_i . x_n (A-hat fixed). */
  z: Float64Array;
  N: number;
}

/** b (m1 x m0) from the parameters. */
export function secondLayer(model: ShiftModel, p: Float64Array, out: Float64Array): void {
  const { m0, m1, phi1, w } = model;
  for (let i = 0; i < m0; i++) {
    const inv = 1 / phi1.d1(p[i]);
    for (let l = 0; l < m1; l++) out[l * m0 + i] = p[m0 + m1 + l] * w[l * m0 + i] * inv;
  }
}

/**
 * Residuals r_n = f_hat(x_n) - y_n into r; the Jacobian (N x (m0 + 2 m1), row-major) into J when
 * given. Returns sum r_n^2.
 */
export function residuals(model: ShiftModel, p: Float64Array, y: Float64Array, r: Float64Array, J: Float64Array | null): number {
  const { m0, m1, phi1, phi2, z, N } = model;
  const np = m0 + 2 * m1;
  const b = new Float64Array(m1 * m0);
  secondLayer(model, p, b);
  // d b_li / d theta_i = -b_li phi1''(theta_i) / phi1'(theta_i)
  const ratio = new Float64Array(m0);
  for (let i = 0; i < m0; i++) ratio[i] = phi1.d2(p[i]) / phi1.d1(p[i]);
  // d s_l / d lambda_l = sum_i wt_li h_i, wt_li = w_li / phi1'(theta_i) (no division by lambda)
  const wt = new Float64Array(m1 * m0);
  for (let i = 0; i < m0; i++) {
    const inv = 1 / phi1.d1(p[i]);
    for (let l = 0; l < m1; l++) wt[l * m0 + i] = model.w[l * m0 + i] * inv;
  }
  // the network's forward pass with B = b(theta, lambda): core's, z2_l summed from tau_l
  const net: UpperLayers = { phi1, phi2, width1: m0, width2: m1, theta: p, thetaAt: 0, B: b, bAt: 0, tau: p, tauAt: m0, tauFirst: true };
  const row = forwardRowScratch(m0, m1);
  const { g: h, g1: hp, h1: o } = row;
  const acc = new Float64Array(m0);
  let sum = 0;
  for (let n = 0; n < N; n++) {
    const res = forwardRow(net, z, n * m0, row, J !== null) - y[n];
    r[n] = res;
    sum += res * res;
    if (J) {
      const at = n * np;
      // acc_i = sum_l phi2'(s_l) b_li
      outputSlopeSums(net, row, acc);
      for (let i = 0; i < m0; i++) J[at + i] = acc[i] * (hp[i] - h[i] * ratio[i]);
      for (let l = 0; l < m1; l++) {
        J[at + m0 + l] = o[l];
        let t = 0;
        for (let i = 0; i < m0; i++) t += wt[l * m0 + i] * h[i];
        J[at + m0 + m1 + l] = o[l] * t;
      }
    }
  }
  return sum;
}
