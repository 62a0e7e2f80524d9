/** Test and bench fixture: exact candidates of networks whose first-layer rows are not orthonormal. */
import { rng, type Float64View } from '@nnid/core';
import { stackRows } from '@nnid/testing';

/**
 * Exact candidates of a (12, 6, 3) tanh network with random (non-orthonormal) rows of norms 0.3-3: the
 * a_i (rows 0-5) and v_l = sum_i W2_li tanh'(b1_i) w_i (rows 6-8), the entangled terms at x = 0.
 */
export function randomRowsCandidates(seed: number): Float64View {
  const [d, m0, m1] = [12, 6, 3];
  const s = rng(seed);
  const a: number[][] = [];
  const norms: number[] = [];
  for (let i = 0; i < m0; i++) {
    const v = Array.from({ length: d }, () => s.normal());
    const nv = Math.hypot(...v);
    a.push(v.map((x) => x / nv));
    norms.push(0.3 + 2.7 * s.uniform());
  }
  const b1 = Array.from({ length: m0 }, () => 0.5 * s.normal());
  const v: number[][] = [];
  for (let l = 0; l < m1; l++) {
    const w2 = Array.from({ length: m0 }, () => s.normal());
    v.push(Array.from({ length: d }, (_, t) => a.reduce((acc, ai, i) => acc + w2[i] * (1 - Math.tanh(b1[i]) ** 2) * norms[i] * ai[t], 0)));
  }
  return stackRows([...a, ...v]);
}
