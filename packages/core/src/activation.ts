/**
 * The smooth sigmoidal activations nnid knows, with the derivatives the method needs.
 * sigmoid(t) = (1 + tanh(t / 2)) / 2.
 */
export const ACTIVATIONS = ['tanh', 'sigmoid'] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

export interface Activation {
  readonly name: ActivationName;
  value(t: number): number;
  /** phi' */
  d1(t: number): number;
  /** phi'' */
  d2(t: number): number;
  /** phi''' */
  d3(t: number): number;
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
};

export function activation(name: ActivationName): Activation {
  return name === 'tanh' ? tanhActivation : sigmoidActivation;
}
