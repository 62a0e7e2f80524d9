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

/**
 * GELU's phi'' is even and peaks at 0 (a Gaussian bump): the Hessians near 0 tell its units apart
 * best. Measured (bench/sampling-scales.ts, general (10, 6, 3), layer 2 tanh, widths given, 2
 * seeds: a small sample): exact on 1 of 2 at radius 0.5, 0 of 2 at 1; on seed 2 the first-layer
 * directions before refinement reached min |cos| 0.82 at radius 0.5, 0.76 at 1, 0.53 at 2. The
 * seed-1 network exact at 0.5 on the native tier is not on the TypeScript tier: a better row, not a
 * fixed one.
 */
const GELU: SamplingScales = { radius: 0.5, stepScale: 1 };

// Written apart from SAMPLING's annotation so that rows of names core does not (yet) list are
// accepted; a missing row is still a compile error there.
const ROWS = {
  tanh: TANH,
  sigmoid: LOGISTIC,
  // the row of the activation each is built on (softplus' = sigmoid, silu = t sigmoid(t)): measured
  // no better (bench/sampling-scales.ts, BENCHMARKS.md): silu first layers fail at radius 0.5, 2 and 3
  softplus: LOGISTIC,
  silu: LOGISTIC,
  gelu: GELU,
  // not measured: gelu's near twin (within ~3e-5) keeps tanh's row until it is
  gelu_tanh: TANH,
  // measured: arctan/tanh (10, 6, 3) exact with tanh's row
  arctan: TANH,
};

export const SAMPLING: Readonly<Record<ActivationName, SamplingScales>> = ROWS;
