import { rowView, type Float64View, type Network } from '@nnid/core';
import { networkHessian } from '@nnid/oracle';

/** Relative Frobenius error of each stack row (full layout, r x r) against `truth(p)` (r x r, dense). */
export function worstRelativeError(stack: Float64View, truth: (p: number) => Float64Array): number {
  const [n, cols] = stack.shape;
  let worst = 0;
  for (let p = 0; p < n; p++) {
    const T = truth(p);
    let num = 0;
    let den = 0;
    for (let k = 0; k < cols; k++) {
      const e = stack.data[stack.offset + p * stack.strides[0] + k * stack.strides[1]] - T[k];
      num += e * e;
      den += T[k] * T[k];
    }
    worst = Math.max(worst, Math.sqrt(num / den));
  }
  return worst;
}

export function exactHessian(net: Network, points: Float64View, p: number): Float64Array {
  return networkHessian(net, rowView(points, p)).data;
}

/** U^T H U for a dense d x d H and a row-major d x r U. */
export function project(H: Float64Array, U: Float64View, d: number, r: number): Float64Array {
  const out = new Float64Array(r * r);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < r; j++) {
      let s = 0;
      for (let p = 0; p < d; p++) {
        let t = 0;
        for (let q = 0; q < d; q++) t += H[p * d + q] * U.data[q * r + j];
        s += U.data[p * r + i] * t;
      }
      out[i * r + j] = s;
    }
  }
  return out;
}
