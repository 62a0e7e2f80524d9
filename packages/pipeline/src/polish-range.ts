/**
 * The refinement's fits in the coordinates of range(A). The pipeline's first-layer weights are
 * lifted from the r-dimensional reduced coordinates (identify-geometry.ts's liftRows), so the
 * rows of its A span range(A) as estimated from the gradients, and f(x) = g(A x) depends on x only
 * through U^T x (U: d x r, orthonormal columns spanning those rows). Fitted there, A has r columns
 * instead of d: the same LM iterations from the same start (measured: bench/start-quality.ts
 * --reduced), each cheaper by about (P_r / P)^2 on the dense normal equations. The lifted network
 * is exact up to the range estimate's error (relative L2 ~1e-8); a full fit of a few iterations
 * finishes it.
 */
import { invalidArgument, matrix, type Float64View, type Network } from '@nnid/core';
import { matmul } from '@nnid/linalg';

/** d x r basis with orthonormal columns of the span of A's rows (Gram-Schmidt, twice; rows within 1e-10 of the span so far add nothing). */
export function rowSpanBasis(A: Float64View): Float64View {
  const [m, d] = A.shape;
  const cols: Float64Array[] = [];
  const v = new Float64Array(d);
  for (let i = 0; i < m; i++) {
    let before = 0;
    for (let t = 0; t < d; t++) {
      v[t] = A.data[A.offset + i * A.strides[0] + t * A.strides[1]];
      before += v[t] * v[t];
    }
    for (let pass = 0; pass < 2; pass++) {
      for (const c of cols) {
        let dot = 0;
        for (let t = 0; t < d; t++) dot += c[t] * v[t];
        for (let t = 0; t < d; t++) v[t] -= dot * c[t];
      }
    }
    let n = 0;
    for (let t = 0; t < d; t++) n += v[t] * v[t];
    if (n > 1e-20 * before && n > 0) cols.push(v.map((x) => x / Math.sqrt(n)));
  }
  const r = cols.length;
  const U = matrix(d, r);
  cols.forEach((c, j) => {
    for (let t = 0; t < d; t++) U.data[t * r + j] = c[t];
  });
  return U;
}

/** `net` and `data` in the coordinates of U's columns: A U (m0 x r) and X U (n x r). */
export function toRange(net: Network, U: Float64View, data: { inputs: Float64View; values: Float64Array }): { network: Network; data: { inputs: Float64View; values: Float64Array } } {
  if (U.shape[0] !== net.inputDim) invalidArgument('U', `must have inputDim = ${net.inputDim} rows`, U.shape[0]);
  return {
    network: { ...net, inputDim: U.shape[1], A: matmul(net.A, U) },
    data: { inputs: matmul(data.inputs, U), values: data.values },
  };
}

/** A network fitted in U's coordinates back in R^d: A U^T. */
export function fromRange(net: Network, U: Float64View): Network {
  if (U.shape[1] !== net.inputDim) invalidArgument('U', `must have the network's inputDim = ${net.inputDim} columns`, U.shape[1]);
  return { ...net, inputDim: U.shape[0], A: matmul(net.A, U, { transB: true }) };
}
