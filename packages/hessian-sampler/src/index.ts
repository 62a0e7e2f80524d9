/**
 * @nnid/hessian-sampler — finite-difference gradients and Hessians at sampled points, in worker
 * threads, into shared memory.
 */
export { sampleHessians, sampleGradients, DEFAULT_STEP, DEFAULT_GRADIENT_STEP } from './sample.ts';
export type { HessianOptions, HessianResult, GradientResult, SampleOptions, SampleReport, PointsInput } from './sample.ts';
export { spherePoints, gaussianPoints } from './points.ts';
export { createSamplerPool } from './pool.ts';
export type { SamplerPool } from './pool.ts';
export { stencilRows } from './stencil.ts';
export type { Scheme, Layout, Kind } from './stencil.ts';
export { unpackHessian } from './unpack.ts';
export { estimateNoise, noiseAwareStep } from './noise.ts';
export type { NoiseOptions, NoiseReport, NoiseResult } from './noise.ts';
