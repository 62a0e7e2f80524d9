/**
 * Dense, validated-once form of a network and the tight evaluation kernel over it.
 *
 * f(x) = sum_l phi2( b_l . phi1(A^T x + theta) + tau_l )
 */
import { checkInteger, invalidArgument, logistic, NnidError, ErrorCodes, type ActivationName, type Float64View, type Network } from '@nnid/core';

/** A network with its weights copied into dense row-major Float64Arrays (internal). */
export interface DenseNetwork {
  readonly layer1: ActivationName;
  readonly layer2: ActivationName;
  readonly inputDim: number;
  readonly width1: number;
  readonly width2: number;
  /** width1 x inputDim, row-major (row i = a_i). */
  readonly A: Float64Array;
  readonly theta: Float64Array;
  /** width2 x width1, row-major (row l = b_l). */
  readonly B: Float64Array;
  readonly tau: Float64Array;
}

function denseCopy(view: Float64View): Float64Array {
  const [r, c] = view.shape;
  const out = new Float64Array(r * c);
  const { data, offset, strides } = view;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) out[i * c + j] = data[offset + i * strides[0] + j * strides[1]];
  }
  return out;
}

export function toDenseNetwork(net: Network): DenseNetwork {
  return {
    layer1: net.activation.layer1,
    layer2: net.activation.layer2,
    inputDim: net.inputDim,
    width1: net.width1,
    width2: net.width2,
    A: denseCopy(net.A),
    theta: Float64Array.from(net.theta),
    B: denseCopy(net.B),
    tau: Float64Array.from(net.tau),
  };
}


/** The activation's value as a plain function (Math.tanh itself for tanh: the fastest call). */
export function activationValue(name: ActivationName): (t: number) => number {
  return name === 'tanh' ? Math.tanh : logistic;
}

/** The batch as rows: checks a 2-d view with `inputDim` columns (a 1-d view is one row). */
export function checkBatch(inputs: Float64View, inputDim: number, name = 'inputs'): { rows: number; rowStride: number; colStride: number } {
  if (!inputs || !(inputs.data instanceof Float64Array) || !Array.isArray(inputs.shape)) {
    invalidArgument(name, 'must be a Float64View (n x inputDim)', inputs);
  }
  if (inputs.shape.length === 1) {
    if (inputs.shape[0] !== inputDim) {
      throw new NnidError(ErrorCodes.dimensionMismatch, `\`${name}\` has ${inputs.shape[0]} entries, expected inputDim = ${inputDim}`);
    }
    return { rows: 1, rowStride: 0, colStride: inputs.strides[0] };
  }
  if (inputs.shape.length !== 2) invalidArgument(name, 'must be a 2-d view (n x inputDim)', inputs.shape);
  if (inputs.shape[1] !== inputDim) {
    throw new NnidError(ErrorCodes.dimensionMismatch, `\`${name}\` has ${inputs.shape[1]} columns, expected inputDim = ${inputDim}`);
  }
  checkInteger(`${name}.shape[0]`, inputs.shape[0], 0);
  return { rows: inputs.shape[0], rowStride: inputs.strides[0], colStride: inputs.strides[1] };
}

/**
 * Kernel: out[r] = f(row r of the batch) for rows [0, rows). Trusts its arguments.
 * `hidden` is scratch of length width1.
 */
export function evaluateDense(
  net: DenseNetwork,
  data: Float64Array,
  offset: number,
  rows: number,
  rowStride: number,
  colStride: number,
  out: Float64Array,
  hidden: Float64Array = new Float64Array(net.width1),
): void {
  const { inputDim: d, width1: m0, width2: m1, A, theta, B, tau } = net;
  const phi1 = activationValue(net.layer1);
  const phi2 = activationValue(net.layer2);
  // Four rows at a time share each load of A (contiguous rows only); each row's sums are
  // accumulated in the same order as in the one-row loop, so the numbers are the same.
  let r = 0;
  if (colStride === 1 && rows >= 4) {
    const h1 = new Float64Array(m0);
    const h2 = new Float64Array(m0);
    const h3 = new Float64Array(m0);
    for (; r + 4 <= rows; r += 4) {
      const b0 = offset + r * rowStride;
      const b1 = b0 + rowStride;
      const b2 = b1 + rowStride;
      const b3 = b2 + rowStride;
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
        const t = theta[i];
        hidden[i] = phi1(z0 + t);
        h1[i] = phi1(z1 + t);
        h2[i] = phi1(z2 + t);
        h3[i] = phi1(z3 + t);
      }
      let f0 = 0;
      let f1 = 0;
      let f2 = 0;
      let f3 = 0;
      for (let l = 0; l < m1; l++) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        const bl = l * m0;
        for (let i = 0; i < m0; i++) {
          const b = B[bl + i];
          s0 += b * hidden[i];
          s1 += b * h1[i];
          s2 += b * h2[i];
          s3 += b * h3[i];
        }
        const t = tau[l];
        f0 += phi2(s0 + t);
        f1 += phi2(s1 + t);
        f2 += phi2(s2 + t);
        f3 += phi2(s3 + t);
      }
      out[r] = f0;
      out[r + 1] = f1;
      out[r + 2] = f2;
      out[r + 3] = f3;
    }
  }
  for (; r < rows; r++) {
    const base = offset + r * rowStride;
    // hidden_i = phi1(a_i . x + theta_i)
    if (colStride === 1) {
      for (let i = 0; i < m0; i++) {
        let z = 0;
        const ai = i * d;
        for (let j = 0; j < d; j++) z += A[ai + j] * data[base + j];
        hidden[i] = phi1(z + theta[i]);
      }
    } else {
      for (let i = 0; i < m0; i++) {
        let z = 0;
        const ai = i * d;
        for (let j = 0; j < d; j++) z += A[ai + j] * data[base + j * colStride];
        hidden[i] = phi1(z + theta[i]);
      }
    }
    // f = sum_l phi2(b_l . hidden + tau_l)
    let f = 0;
    for (let l = 0; l < m1; l++) {
      let s = 0;
      const bl = l * m0;
      for (let i = 0; i < m0; i++) s += B[bl + i] * hidden[i];
      f += phi2(s + tau[l]);
    }
    out[r] = f;
  }
}

/**
 * f at each row of `inputs` (n x inputDim, any strides; a 1-d view is one point), synchronously.
 * For tests and scoring; identification goes through an Oracle.
 *
 * @example
 * const values = evaluateNetwork(net, points);   // Float64Array of n values
 */
export function evaluateNetwork(net: Network, inputs: Float64View): Float64Array {
  const { rows, rowStride, colStride } = checkBatch(inputs, net.inputDim);
  const out = new Float64Array(rows);
  evaluateDense(toDenseNetwork(net), inputs.data, inputs.offset, rows, rowStride, colStride, out);
  return out;
}


