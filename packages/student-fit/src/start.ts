/**
 * One random start of the student fit: its initial network (from the seed and the start's index
 * alone) and its Levenberg-Marquardt fit on the data in hand (refine's fitNetwork). The same
 * function runs in the main thread (1 thread) and in a worker (worker-task.ts): the same bits.
 */
import { matrix, matrixFrom, rng, type ActivationName, type Network } from '@nnid/core';
import { fitNetwork, layoutOf, packParameters } from '@nnid/refine';

/** The student's shape: what the fit must be told (it does not infer widths). */
export interface StudentShape {
  inputDim: number;
  width1: number;
  width2: number;
  activation: { layer1: ActivationName; layer2: ActivationName };
}

/** Std of the initial shifts theta, tau: the generator's default (DESIGN.md section 7). */
export const START_SHIFT_STD = 0.3;

/** Split keys of rng(seed): the data points and the starts draw from disjoint streams. */
export const DATA_KEY = 0xda7a;
export const START_KEY = 0x57a7;

/**
 * The initial network of start `start`: rows of A uniform on the unit sphere of R^d, rows of B on
 * the unit sphere of R^m0, theta and tau ~ N(0, 0.3^2). Streams: rng(seed).split(START_KEY, start)
 * then split(0, i) row i of A, split(1) theta, split(2, l) row l of B, split(3) tau.
 *
 * @example
 * const net = startNetwork({ inputDim: 8, width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' } }, 0, 3);
 */
export function startNetwork(shape: StudentShape, seed: number, start: number): Network {
  const { inputDim: d, width1: m0, width2: m1 } = shape;
  const root = rng(seed).split(START_KEY, start);
  const A = matrix(m0, d);
  for (let i = 0; i < m0; i++) root.split(0, i).fillSphere(A.data.subarray(i * d, (i + 1) * d), 1);
  const theta = root.split(1).fillNormal(new Float64Array(m0), 0, START_SHIFT_STD);
  const B = matrix(m1, m0);
  for (let l = 0; l < m1; l++) root.split(2, l).fillSphere(B.data.subarray(l * m0, (l + 1) * m0), 1);
  const tau = root.split(3).fillNormal(new Float64Array(m1), 0, START_SHIFT_STD);
  return { activation: { ...shape.activation }, inputDim: d, width1: m0, width2: m1, A, theta, B, tau };
}

/** What one start needs; structured-clone safe (the data on shared memory: not copied). */
export interface StartTask {
  shape: StudentShape;
  seed: number;
  start: number;
  /** N x d inputs, row-major, and the N answers. */
  inputs: Float64Array;
  values: Float64Array;
  maxIterations: number;
  /**
   * [0]: the smallest index of a start that passed so far (or 2^31 - 1). A start with a larger
   * index stops at its next step: its result could not be returned.
   */
  stop: Int32Array;
}

/** One start's outcome (cancelled: stopped because an earlier start passed). */
export interface StartOutcome {
  start: number;
  cancelled: boolean;
  /** The fitted parameters in refine's order (packParameters); empty when cancelled. */
  parameters: Float64Array;
  iterations: number;
  relativeResidual: number;
  initialRelativeResidual: number;
  stopReason: string;
  seconds: number;
}

class Cancelled extends Error {}

/** Runs one start: fitNetwork from startNetwork(shape, seed, start) on (inputs, values). */
export async function runStart(task: StartTask): Promise<StartOutcome> {
  const started = performance.now();
  const { shape, start } = task;
  const N = task.values.length;
  const cancelled = (): StartOutcome => ({
    start,
    cancelled: true,
    parameters: new Float64Array(0),
    iterations: 0,
    relativeResidual: NaN,
    initialRelativeResidual: NaN,
    stopReason: 'cancelled',
    seconds: (performance.now() - started) / 1000,
  });
  if (Atomics.load(task.stop, 0) < start) return cancelled();
  const initial = startNetwork(shape, task.seed, start);
  try {
    const { network, report } = await fitNetwork(
      initial,
      { inputs: matrixFrom(task.inputs, N, shape.inputDim), values: task.values },
      {
        maxIterations: task.maxIterations,
        // one start per thread: its row blocks (if any) one after the other here
        threads: 1,
        onProgress: () => {
          if (Atomics.load(task.stop, 0) < start) throw new Cancelled();
        },
      },
    );
    return {
      start,
      cancelled: false,
      parameters: packParameters(network, layoutOf(network)),
      iterations: report.iterations,
      relativeResidual: report.relativeResidual,
      initialRelativeResidual: report.initialRelativeResidual,
      stopReason: report.stopReason,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (e) {
    if (e instanceof Cancelled) return cancelled();
    throw e;
  }
}
