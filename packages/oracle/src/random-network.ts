/**
 * Random networks as in the paper's experiments (arXiv:1907.00485, section 5).
 */
import {
  ACTIVATIONS,
  activation,
  checkChoice,
  checkInteger,
  checkPositive,
  invalidArgument,
  matrix,
  rng,
  type ActivationName,
  type AllocOptions,
  type Network,
} from '@nnid/core';

export interface RandomNetworkOptions {
  inputDim: number;
  width1: number;
  width2: number;
  /** One activation for both layers, or one per layer. Default 'tanh'. */
  activation?: ActivationName | { layer1: ActivationName; layer2: ActivationName };
  /** theta_i, tau_l ~ N(0, shiftStd^2). Default 0.3 (the prototype measurements of the design; docs/DESIGN.md section 2). */
  shiftStd?: number;
  /** eps: A <- rownormalize(A + eps G), G Gaussian. Default 0 (orthonormal rows). */
  orthogonalityPerturbation?: number;
  /** Default 0. */
  seed?: number;
  /** Put A and B on shared memory. */
  shared?: boolean;
}

/**
 * Refuses shifts that leave a degenerate network: a shift that is not finite (the file format
 * refuses it), or every unit of a layer saturated at x = 0 (phi'(shift) < 1e-12 phi'(0): the
 * layer is constant to rounding near the origin, so the network is too).
 */
function checkNotDegenerate(name: 'theta' | 'tau', shifts: Float64Array, atZero: Float64Array, act: ActivationName, shiftStd: number): void {
  const phi = activation(act);
  let live = 0;
  for (let i = 0; i < shifts.length; i++) {
    if (!Number.isFinite(shifts[i])) invalidArgument('shiftStd', `must give finite shifts (${name}[${i}] = ${shifts[i]})`, shiftStd);
    if (Math.abs(phi.d1(atZero[i])) >= 1e-12 * Math.abs(phi.d1(0))) live++;
  }
  if (live === 0) {
    invalidArgument('shiftStd', `must leave some unit unsaturated (every ${name === 'theta' ? 'first' : 'second'}-layer unit has ${act}' < 1e-12 ${act}'(0) at x = 0: the network is constant near 0)`, shiftStd);
  }
}

/** Default std of the shifts theta and tau. */
export const DEFAULT_SHIFT_STD = 0.3;

/**
 * A random network:
 * - A (width1 x inputDim) has orthonormal rows: the first width1 columns of a Haar-random
 *   orthogonal matrix (QR of a Gaussian inputDim x width1 matrix, R's diagonal made positive),
 *   transposed. With `orthogonalityPerturbation` eps > 0: A + eps * Gaussian, rows renormalized.
 * - B (width2 x width1) has unit-norm Gaussian rows.
 * - theta, tau ~ N(0, shiftStd^2).
 * Streams: rng(seed).split(0) A, split(1) perturbation, split(2) B, split(3) theta, split(4) tau.
 *
 * @example
 * const net = randomNetwork({ inputDim: 20, width1: 10, width2: 5, activation: 'tanh', seed: 1 });
 */
export function randomNetwork(options: RandomNetworkOptions): Network {
  if (!options || typeof options !== 'object') invalidArgument('options', 'must be an object', options);
  const d = checkInteger('inputDim', options.inputDim);
  const m0 = checkInteger('width1', options.width1);
  const m1 = checkInteger('width2', options.width2);
  if (m0 > d) invalidArgument('width1', `must be <= inputDim (${d})`, m0);
  if (m1 > m0) invalidArgument('width2', `must be <= width1 (${m0})`, m1);
  const act = options.activation ?? 'tanh';
  let layer1: ActivationName;
  let layer2: ActivationName;
  if (typeof act === 'string') {
    layer1 = layer2 = checkChoice('activation', act, ACTIVATIONS);
  } else if (act && typeof act === 'object') {
    layer1 = checkChoice('activation.layer1', act.layer1, ACTIVATIONS);
    layer2 = checkChoice('activation.layer2', act.layer2, ACTIVATIONS);
  } else {
    invalidArgument('activation', `must be one of ${ACTIVATIONS.map((c) => `'${c}'`).join(', ')} or { layer1, layer2 }`, act);
  }
  const shiftStd = checkPositive('shiftStd', options.shiftStd ?? DEFAULT_SHIFT_STD, true);
  const eps = checkPositive('orthogonalityPerturbation', options.orthogonalityPerturbation ?? 0, true);
  const seed = checkInteger('seed', options.seed ?? 0, 0);
  const alloc: AllocOptions = { shared: Boolean(options.shared) };
  const root = rng(seed);

  // Q: d x m0 Gaussian, column-orthonormalized by Gram-Schmidt (twice, for orthogonality to
  // machine precision). Gram-Schmidt makes R's diagonal positive: Q is Haar distributed.
  const streamA = root.split(0);
  const q = new Float64Array(d * m0); // column i at q[i*d .. i*d+d): stored by columns = rows of A
  for (let i = 0; i < m0; i++) {
    for (let p = 0; p < d; p++) q[i * d + p] = streamA.normal();
  }
  for (let i = 0; i < m0; i++) {
    const ci = i * d;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < i; k++) {
        const ck = k * d;
        let dot = 0;
        for (let p = 0; p < d; p++) dot += q[ck + p] * q[ci + p];
        for (let p = 0; p < d; p++) q[ci + p] -= dot * q[ck + p];
      }
    }
    let norm = 0;
    for (let p = 0; p < d; p++) norm += q[ci + p] * q[ci + p];
    norm = Math.sqrt(norm);
    if (!(norm > 1e-300)) invalidArgument('seed', 'gave a degenerate Gaussian matrix; use another seed', seed);
    for (let p = 0; p < d; p++) q[ci + p] /= norm;
  }
  const A = matrix(m0, d, alloc);
  A.data.set(q);
  if (eps > 0) {
    const streamP = root.split(1);
    for (let i = 0; i < m0; i++) {
      let norm = 0;
      for (let p = 0; p < d; p++) {
        const v = A.data[i * d + p] + eps * streamP.normal();
        A.data[i * d + p] = v;
        norm += v * v;
      }
      norm = Math.sqrt(norm);
      // eps so large that eps G overflows (or its squares do) leaves a row of zeros or NaN
      if (!(norm > 0 && norm < Infinity)) {
        invalidArgument('orthogonalityPerturbation', `must be small enough that A + eps G stays finite (row ${i} of A would be all zero or NaN)`, eps);
      }
      for (let p = 0; p < d; p++) A.data[i * d + p] /= norm;
    }
  }

  const B = matrix(m1, m0, alloc);
  const streamB = root.split(2);
  for (let l = 0; l < m1; l++) {
    let norm = 0;
    while (norm === 0) {
      norm = 0;
      for (let i = 0; i < m0; i++) {
        const v = streamB.normal();
        B.data[l * m0 + i] = v;
        norm += v * v;
      }
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < m0; i++) B.data[l * m0 + i] /= norm;
  }
  const theta = root.split(3).fillNormal(new Float64Array(m0), 0, shiftStd);
  const tau = root.split(4).fillNormal(new Float64Array(m1), 0, shiftStd);
  checkNotDegenerate('theta', theta, theta, layer1, shiftStd);
  // a second-layer unit sees b_l . phi1(theta) + tau_l at x = 0
  const phi1 = activation(layer1);
  const s0 = tau.map((t, l) => {
    let s = t;
    for (let i = 0; i < m0; i++) s += B.data[l * m0 + i] * phi1.value(theta[i]);
    return s;
  });
  checkNotDegenerate('tau', tau, s0, layer2, shiftStd);
  return { activation: { layer1, layer2 }, inputDim: d, width1: m0, width2: m1, A, theta, B, tau };
}
