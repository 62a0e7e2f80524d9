/**
 * Bench helpers (issue 13): a general network's entangled weights (`generalEntangled`); the truth's first-layer rows in the order and signs of a found start's
 * rows (best |cos| assignment), so that the start's theta, B, tau, which belong to its own rows, stay
 * paired with them. `directions`: unit rows with the found rows' signs; `truthPattern`: the truth in
 * the paper's form in that order (unit rows with the truth's signs, theta = b1, B = W2 diag |w1_i|, tau = b2).
 */
import { activation as activationOf, matrix, type Float64View, type GeneralNetwork } from '@nnid/core';
import { hungarian } from '@nnid/pipeline';

export function trueRowsInFoundOrder(truth: GeneralNetwork, found: Float64View): { directions: Float64View; truthPattern: { A: Float64View; theta: Float64Array; B: Float64View; tau: Float64Array } } {
  const { inputDim: d, width1: m0, width2: m1 } = truth;
  const f = (i: number, t: number) => found.data[found.offset + i * found.strides[0] + t * found.strides[1]];
  const norms = Array.from({ length: m0 }, (_, j) => Math.hypot(...truth.W1.data.subarray(j * d, (j + 1) * d)));
  const cosOf = (i: number, j: number) => {
    let c = 0;
    let n = 0;
    for (let t = 0; t < d; t++) {
      c += f(i, t) * truth.W1.data[j * d + t];
      n += f(i, t) ** 2;
    }
    return c / (norms[j] * Math.sqrt(n));
  };
  const cost = new Float64Array(m0 * m0);
  for (let i = 0; i < m0; i++) for (let j = 0; j < m0; j++) cost[i * m0 + j] = 1 - Math.abs(cosOf(i, j));
  const assignment = hungarian(cost, m0, m0);
  const directions = matrix(m0, d);
  const A = matrix(m0, d);
  const B = matrix(m1, m0);
  const theta = new Float64Array(m0);
  for (let i = 0; i < m0; i++) {
    const j = assignment[i];
    const sign = Math.sign(cosOf(i, j)) || 1;
    for (let t = 0; t < d; t++) {
      directions.data[i * d + t] = (sign * truth.W1.data[j * d + t]) / norms[j];
      A.data[i * d + t] = truth.W1.data[j * d + t] / norms[j];
    }
    theta[i] = truth.b1[j];
    for (let l = 0; l < m1; l++) B.data[l * m0 + i] = truth.W2.data[l * m0 + j] * norms[j];
  }
  return { directions, truthPattern: { A, theta, B, tau: Float64Array.from(truth.b2) } };
}

/** v_l = sum_i phi1'(b1_i) W2_li W1_i: the entangled weights of a general network at x = 0 (unit-free rows). */
export function generalEntangled(g: GeneralNetwork): Float64View {
  const phi1 = activationOf(g.activation.layer1);
  const out = matrix(g.width2, g.inputDim);
  for (let l = 0; l < g.width2; l++) {
    for (let i = 0; i < g.width1; i++) {
      const w = phi1.d1(g.b1[i]) * g.W2.data[g.W2.offset + l * g.W2.strides[0] + i * g.W2.strides[1]];
      for (let j = 0; j < g.inputDim; j++) out.data[l * g.inputDim + j] += w * g.W1.data[g.W1.offset + i * g.W1.strides[0] + j * g.W1.strides[1]];
    }
  }
  return out;
}
