/**
 * The smooth sigmoidal activations nnid knows, as data: one checked definition per name with the
 * value, the three derivatives the method needs and a fused value-and-slope path for kernels.
 * Kernels and forward passes take a definition (`Activation`), never a name; a name becomes a
 * definition once, at a package surface, through `activation(name)`.
 *
 * Adding an activation = one row of `ACTIVATION_TABLE` + the rows of the per-package
 * `Record<ActivationName, ...>` tables the compiler then asks for (the ONNX operator in
 * black-box, the sampling scales in pipeline).
 *
 * sigmoid(t) = (1 + tanh(t / 2)) / 2.
 */
export const ACTIVATIONS = ['tanh', 'sigmoid'] as const;
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

/** Every named activation's definition (exhaustive: a name without a row does not compile). */
export const ACTIVATION_TABLE: Readonly<Record<ActivationName, Activation>> = {
  tanh: tanhActivation,
  sigmoid: sigmoidActivation,
};

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
