/**
 * The smooth activations nnid knows, as data: one checked definition per name with the
 * value, the three derivatives the method needs and a fused value-and-slope path for kernels.
 * Kernels and forward passes take a definition (`Activation`), never a name; a name becomes a
 * definition once, at a package surface, through `activation(name)`.
 *
 * Adding an activation = one row of `ACTIVATION_TABLE` + the rows of the per-package
 * `Record<ActivationName, ...>` tables the compiler then asks for (the ONNX operator in
 * black-box, the sampling scales in pipeline).
 *
 * sigmoid(t) = (1 + tanh(t / 2)) / 2; softplus' = sigmoid; gelu(t) = t Phi(t) with Phi the
 * standard normal CDF (PyTorch's default GELU); gelu_tanh is PyTorch's approximate='tanh' form;
 * silu(t) = t sigmoid(t) (swish).
 */
import { checkChoice, invalidArgument } from './errors.ts';
import { erfc } from './erf.ts';

export const ACTIVATIONS = ['tanh', 'sigmoid', 'softplus', 'gelu', 'gelu_tanh', 'silu', 'arctan'] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

/**
 * One activation phi: its value and derivatives. A definition need not be one of `ACTIVATIONS`
 * (tests add their own); only the file format and the per-package tables are keyed by name.
 */
export interface Activation {
  readonly name: string;
  value(t: number): number;
  /** phi' */
  d1(t: number): number;
  /** phi'' */
  d2(t: number): number;
  /** phi''' */
  d3(t: number): number;
  /**
   * Fused fast path for kernels: values[i] = phi(t[at + i]) and, when `slopes` is given,
   * slopes[i] = phi'(t[at + i]) for i < n, one evaluation of tanh or exp serving both; the same
   * numbers as `value` and `d1`. Each definition writes its own loop, so that the call inside is
   * direct (measured: packages/core/bench/activation.ts, BENCHMARKS.md).
   */
  valuesSlopes(t: Float64Array, at: number, n: number, values: Float64Array, slopes: Float64Array | null): void;
}

const tanhActivation: Activation = {
  name: 'tanh',
  value: Math.tanh,
  d1(t) {
    const y = Math.tanh(t);
    return 1 - y * y;
  },
  d2(t) {
    const y = Math.tanh(t);
    return -2 * y * (1 - y * y);
  },
  d3(t) {
    const y = Math.tanh(t);
    const s = 1 - y * y;
    return -2 * s * s + 4 * y * y * s;
  },
  valuesSlopes(t, at, n, values, slopes) {
    for (let i = 0; i < n; i++) {
      const y = Math.tanh(t[at + i]);
      values[i] = y;
      if (slopes) slopes[i] = 1 - y * y;
    }
  },
};

/** The logistic sigmoid 1 / (1 + e^-t), computed without overflow for either sign of t. */
export function logistic(t: number): number {
  return t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t));
}

const sigmoidActivation: Activation = {
  name: 'sigmoid',
  value: logistic,
  d1(t) {
    const s = logistic(t);
    return s * (1 - s);
  },
  d2(t) {
    const s = logistic(t);
    return s * (1 - s) * (1 - 2 * s);
  },
  d3(t) {
    const s = logistic(t);
    const p = s * (1 - s);
    return p * (1 - 6 * p);
  },
  valuesSlopes(t, at, n, values, slopes) {
    for (let i = 0; i < n; i++) {
      const s = logistic(t[at + i]);
      values[i] = s;
      if (slopes) slopes[i] = s * (1 - s);
    }
  },
};

/** softplus(t) = log(1 + e^t) = max(t, 0) + log1p(e^-|t|); softplus' = sigmoid. */
const softplusActivation: Activation = {
  name: 'softplus',
  value(t) {
    return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
  },
  d1: logistic,
  d2(t) {
    const s = logistic(t);
    return s * (1 - s);
  },
  d3(t) {
    const s = logistic(t);
    return s * (1 - s) * (1 - 2 * s);
  },
  valuesSlopes(t, at, n, values, slopes) {
    for (let i = 0; i < n; i++) {
      const u = t[at + i];
      // one exp for both, e = e^-|u| (the same numbers as value and logistic)
      const e = Math.exp(u > 0 ? -u : u);
      values[i] = u > 0 ? u + Math.log1p(e) : Math.log1p(e);
      if (slopes) slopes[i] = u >= 0 ? 1 / (1 + e) : e / (1 + e);
    }
  },
};

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** The standard normal CDF Phi(t) = erfc(-t / sqrt 2) / 2 (no cancellation for t << 0). */
function normalCdf(t: number): number {
  return 0.5 * erfc(-t * Math.SQRT1_2);
}
/** The standard normal density phi(t). */
function normalPdf(t: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * t * t);
}

/** gelu(t) = t Phi(t): gelu' = Phi + t phi, gelu'' = phi (2 - t^2), gelu''' = phi t (t^2 - 4). */
const geluActivation: Activation = {
  name: 'gelu',
  value(t) {
    return t * normalCdf(t);
  },
  d1(t) {
    return normalCdf(t) + t * normalPdf(t);
  },
  d2(t) {
    return normalPdf(t) * (2 - t * t);
  },
  d3(t) {
    return normalPdf(t) * t * (t * t - 4);
  },
  valuesSlopes(t, at, n, values, slopes) {
    for (let i = 0; i < n; i++) {
      const u = t[at + i];
      const P = normalCdf(u);
      values[i] = u * P;
      if (slopes) slopes[i] = P + u * normalPdf(u);
    }
  },
};

const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;
/**
 * gelu_tanh(t) = t (1 + tanh(u)) / 2 = t s, u = k (t + c t^3), k = sqrt(2 / pi), c = 0.044715,
 * s = sigmoid(2 u) (the same function as PyTorch's formula, without its cancellation in 1 + tanh u
 * for t << 0). With T = tanh(u) = 2 s - 1, S = 1 - T^2 = 4 s (1 - s), u1 = u' = k (1 + 3 c t^2),
 * u2 = u'' = 6 k c t, u3 = u''' = 6 k c:
 *   f'   = s + t S u1 / 2
 *   f''  = S u1 - t T S u1^2 + t S u2 / 2
 *   f''' = S (-3 T u1^2 + 3 u2 / 2 - t u1^3 (S - 2 T^2) - 3 t T u1 u2 + t u3 / 2)
 */
function geluTanhGate(t: number): number {
  return logistic(2 * GELU_K * (t + GELU_C * t * t * t));
}
const geluTanhActivation: Activation = {
  name: 'gelu_tanh',
  value(t) {
    return t * geluTanhGate(t);
  },
  d1(t) {
    const s = geluTanhGate(t);
    return s + 2 * t * s * (1 - s) * (GELU_K * (1 + 3 * GELU_C * t * t));
  },
  d2(t) {
    const s = geluTanhGate(t);
    const T = 2 * s - 1;
    const S = 4 * s * (1 - s);
    const u1 = GELU_K * (1 + 3 * GELU_C * t * t);
    const u2 = 6 * GELU_K * GELU_C * t;
    return S * u1 - t * T * S * u1 * u1 + 0.5 * t * S * u2;
  },
  d3(t) {
    const s = geluTanhGate(t);
    const T = 2 * s - 1;
    const S = 4 * s * (1 - s);
    const u1 = GELU_K * (1 + 3 * GELU_C * t * t);
    const u2 = 6 * GELU_K * GELU_C * t;
    const u3 = 6 * GELU_K * GELU_C;
    return S * (-3 * T * u1 * u1 + 1.5 * u2 - t * u1 * u1 * u1 * (S - 2 * T * T) - 3 * t * T * u1 * u2 + 0.5 * t * u3);
  },
  valuesSlopes(t, at, n, values, slopes) {
    for (let i = 0; i < n; i++) {
      const u = t[at + i];
      const s = geluTanhGate(u);
      values[i] = u * s;
      if (slopes) slopes[i] = s + 2 * u * s * (1 - s) * (GELU_K * (1 + 3 * GELU_C * u * u));
    }
  },
};

/**
 * silu(t) = t s, s = sigmoid(t), p = s (1 - s): silu' = s (1 + t (1 - s)),
 * silu'' = 2 p + t p (1 - 2 s), silu''' = 3 p (1 - 2 s) + t p (1 - 6 p).
 */
const siluActivation: Activation = {
  name: 'silu',
  value(t) {
    return t * logistic(t);
  },
  d1(t) {
    const s = logistic(t);
    return s * (1 + t * (1 - s));
  },
  d2(t) {
    const s = logistic(t);
    const p = s * (1 - s);
    return 2 * p + t * p * (1 - 2 * s);
  },
  d3(t) {
    const s = logistic(t);
    const p = s * (1 - s);
    return 3 * p * (1 - 2 * s) + t * p * (1 - 6 * p);
  },
  valuesSlopes(t, at, n, values, slopes) {
    for (let i = 0; i < n; i++) {
      const u = t[at + i];
      const s = logistic(u);
      values[i] = u * s;
      if (slopes) slopes[i] = s * (1 + u * (1 - s));
    }
  },
};

/** arctan, q = 1 + t^2: arctan' = 1 / q, arctan'' = -2 t / q^2, arctan''' = (6 t^2 - 2) / q^3. */
const arctanActivation: Activation = {
  name: 'arctan',
  value: Math.atan,
  d1(t) {
    return 1 / (1 + t * t);
  },
  d2(t) {
    const q = 1 + t * t;
    return (-2 * t) / (q * q);
  },
  d3(t) {
    const q = 1 + t * t;
    return (6 * t * t - 2) / (q * q * q);
  },
  valuesSlopes(t, at, n, values, slopes) {
    for (let i = 0; i < n; i++) {
      const u = t[at + i];
      values[i] = Math.atan(u);
      if (slopes) slopes[i] = 1 / (1 + u * u);
    }
  },
};

/** Every named activation's definition (exhaustive: a name without a row does not compile). */
export const ACTIVATION_TABLE: Readonly<Record<ActivationName, Activation>> = {
  tanh: tanhActivation,
  sigmoid: sigmoidActivation,
  softplus: softplusActivation,
  gelu: geluActivation,
  gelu_tanh: geluTanhActivation,
  silu: siluActivation,
  arctan: arctanActivation,
};
const SMOOTH_ONES = 'use a smooth one instead (softplus is a smooth relu; gelu and silu are smooth too)';
const PIECEWISE_LINEAR =
  'is piecewise linear: its second derivative is zero almost everywhere and undefined at the kinks, so the Hessians nnid identifies from carry nothing';
const NOT_C2 =
  'is not twice differentiable at 0: its second derivative jumps there, so the Hessians nnid identifies from are undefined on one hyperplane per unit';

/** Activations users meet that nnid refuses, with why (see checkActivation). */
export const REFUSED_ACTIVATIONS: Readonly<Record<string, string>> = {
  relu: PIECEWISE_LINEAR,
  leaky_relu: PIECEWISE_LINEAR,
  prelu: PIECEWISE_LINEAR,
  relu6: PIECEWISE_LINEAR,
  hardtanh: PIECEWISE_LINEAR,
  hardsigmoid: PIECEWISE_LINEAR,
  elu: NOT_C2,
  selu: NOT_C2,
  celu: NOT_C2,
  hardswish: NOT_C2,
};

/**
 * `value` as an activation name, checked: one of ACTIVATIONS; else an InvalidArgumentError that
 * says, in one line, why a known non-smooth activation (relu, leaky_relu, elu, hardtanh, ...)
 * cannot be identified and what would work, or that lists the names nnid knows.
 *
 * @example
 * checkActivation('activation.layer1', 'relu');
 * // invalid argument. `activation.layer1` must be a smooth activation: relu is piecewise linear: ...
 */
export function checkActivation(name: string, value: unknown): ActivationName {
  if (typeof value === 'string') {
    const key = value.toLowerCase().replace(/[\s-]/g, '_').replace(/^leakyrelu$/, 'leaky_relu');
    const why = Object.hasOwn(REFUSED_ACTIVATIONS, key) ? REFUSED_ACTIVATIONS[key] : undefined;
    if (why !== undefined) {
      invalidArgument(name, `must be a smooth activation: ${value} ${why}; ${SMOOTH_ONES}, one of ${ACTIVATIONS.map((c) => `'${c}'`).join(', ')}`, value);
    }
  }
  return checkChoice(name, value, ACTIVATIONS);
}

/**
 * The definition of a named activation (the name is trusted: check user input with
 * `checkChoice(name, value, ACTIVATIONS)` first).
 *
 * @example
 * const phi = activation('tanh');
 * phi.d2(0.3);   // phi''(0.3)
 */
export function activation(name: ActivationName): Activation {
  return ACTIVATION_TABLE[name];
}
