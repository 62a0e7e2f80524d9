/**
 * Bench helper (issue 15): the truth's exact Hessians for benches that diagnose the first layer on
 * them (completion.ts, restack.ts). The truth's rows are orthonormal (randomNetwork's A), so its own
 * rows are range(A)'s coordinates (A U = I, r = m0) and each Hessian there is
 * sum_i phi''(z1_i) (sum_l b_li g_l) e_i e_i^T + sum_l phi''(z2_l) v_l v_l^T, v_li = phi'(z1_i) b_li.
 */
import { activation, matrix, type Float64View, type Network } from '@nnid/core';

/** The truth's first-layer pre-activations z1 = A x + theta at one point. */
export function truthPreActivations(truth: Network, x: Float64Array): Float64Array {
  const [m0, d] = truth.A.shape;
  const z1 = new Float64Array(m0);
  for (let i = 0; i < m0; i++) {
    let z = truth.theta[i];
    for (let j = 0; j < d; j++) z += truth.A.data[i * d + j] * x[j];
    z1[i] = z;
  }
  return z1;
}

/** The truth's exact Hessians at the points (rows of `points`) in its rows' coordinates, packed (off-diagonal times sqrt 2). */
export function truthHessianStack(truth: Network, points: Float64View): Float64View {
  const phi = activation('tanh');
  const [count, d] = points.shape;
  const m0 = truth.A.shape[0];
  const m1 = truth.B.shape[0];
  const r = m0;
  const packed = (r * (r + 1)) / 2;
  const stack = matrix(count, packed);
  const H = new Float64Array(r * r);
  for (let n = 0; n < count; n++) {
    const z1 = truthPreActivations(truth, points.data.subarray(n * d, (n + 1) * d));
    H.fill(0);
    for (let l = 0; l < m1; l++) {
      let z2 = truth.tau[l];
      for (let i = 0; i < m0; i++) z2 += truth.B.data[l * m0 + i] * phi.value(z1[i]);
      const g = phi.d1(z2);
      const h = phi.d2(z2);
      const v = new Float64Array(m0);
      for (let i = 0; i < m0; i++) {
        H[i * r + i] += phi.d2(z1[i]) * truth.B.data[l * m0 + i] * g;
        v[i] = phi.d1(z1[i]) * truth.B.data[l * m0 + i];
      }
      for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) H[a * r + b] += h * v[a] * v[b];
    }
    let col = 0;
    for (let a = 0; a < r; a++) for (let b = a; b < r; b++) stack.data[n * packed + col++] = H[a * r + b] * (a === b ? 1 : Math.SQRT2);
  }
  return stack;
}
