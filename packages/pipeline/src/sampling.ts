/**
 * What identify's sampling knows about each first-layer activation: one row per name, so that a
 * new activation does not compile until its row is written (not silently sampled as tanh).
 */
import type { ActivationName } from '@nnid/core';

export interface SamplingScales {
  /** Radius of the sphere the gradient and Hessian points are drawn on ('auto' radius). */
  radius: number;
  /** Factor on the noise-aware finite-difference steps ('auto' steps with a noisy oracle). */
  stepScale: number;
}

const TANH: SamplingScales = { radius: 1, stepScale: 1 };
/**
 * sigmoid(t) = (1 + tanh(t / 2)) / 2 halves the first-layer weights, so a sigmoid first layer bends
 * over a longer scale: radius 3 and 4x the tanh steps (measured: packages/pipeline/README.md).
 */
const LOGISTIC: SamplingScales = { radius: 3, stepScale: 4 };

// Written apart from SAMPLING's annotation so that rows of names core does not (yet) list are
// accepted; a missing row is still a compile error there.
const ROWS = {
  tanh: TANH,
  sigmoid: LOGISTIC,
  // not measured yet: the row of the activation each is built on (softplus' = sigmoid, silu = t sigmoid(t))
  softplus: LOGISTIC,
  silu: LOGISTIC,
  gelu: TANH,
  gelu_tanh: TANH,
  arctan: TANH,
};

export const SAMPLING: Readonly<Record<ActivationName, SamplingScales>> = ROWS;
