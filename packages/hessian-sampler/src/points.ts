/**
 * Sample points. Point i is drawn from its own stream rng(seed).split(i), so a point does not
 * depend on how many points are drawn or how they are divided among threads.
 */
import { checkInteger, checkPositive, matrix, rng, type Float64View } from '@nnid/core';

/**
 * `count` points uniform on the sphere of radius `radius` in R^inputDim, as a shared count x d view.
 *
 * @example
 * const X = spherePoints(40, 20, 1, 7);
 */
export function spherePoints(count: number, inputDim: number, radius: number, seed: number): Float64View {
  checkInteger('count', count);
  checkInteger('inputDim', inputDim);
  checkPositive('radius', radius);
  checkInteger('seed', seed, 0);
  const X = matrix(count, inputDim, { shared: true });
  const root = rng(seed);
  for (let i = 0; i < count; i++) root.split(i).fillSphere(X.data.subarray(i * inputDim, (i + 1) * inputDim), radius);
  return X;
}

/**
 * `count` points from N(0, std^2 I), as a shared count x d view.
 *
 * @example
 * const X = gaussianPoints(40, 20, 1, 7);
 */
export function gaussianPoints(count: number, inputDim: number, std: number, seed: number): Float64View {
  checkInteger('count', count);
  checkInteger('inputDim', inputDim);
  checkPositive('std', std);
  checkInteger('seed', seed, 0);
  const X = matrix(count, inputDim, { shared: true });
  const root = rng(seed);
  for (let i = 0; i < count; i++) root.split(i).fillNormal(X.data.subarray(i * inputDim, (i + 1) * inputDim), 0, std);
  return X;
}
