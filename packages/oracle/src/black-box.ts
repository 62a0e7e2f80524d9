/**
 * An in-process network as a black box: evaluation, optional seeded noise, a stable identity,
 * and a worker spec from which a worker thread rebuilds the same black box.
 */
import { createHash } from 'node:crypto';
import {
  ACTIVATIONS,
  checkInteger,
  checkPositive,
  invalidArgument,
  matrixFrom,
  rng,
  type BlackBox,
  type Float64View,
  type Network,
  type RandomStream,
} from '@nnid/core';
import { checkBatch, evaluateDense, toDenseNetwork, type DenseNetwork } from './evaluate.ts';

export interface NetworkBlackBoxOptions {
  /** Standard deviation of additive Gaussian noise on each answer (default 0: exact). */
  noise?: number;
  /** Seed of the noise (default 0). The noise on x depends only on (noiseSeed, the bits of x). */
  noiseSeed?: number;
}

/** What `workerSpec()` returns: plain data (typed arrays are copied by structured clone). */
export interface NetworkWorkerSpec extends DenseNetwork {
  readonly kind: 'nnid.network-black-box/v1';
  readonly identity: string;
  readonly noise: number;
  readonly noiseSeed: number;
}

/** A network black box; also evaluates synchronously (for kernels that run in one thread). */
export interface NetworkBlackBox extends BlackBox {
  readonly noise: number;
  readonly noiseSeed: number;
  /** f at each row, synchronously (same numbers as `evaluate`). */
  evaluateSync(inputs: Float64View): Float64Array;
  workerSpec(): NetworkWorkerSpec;
}

function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A 53-bit key from the exact bits of a point: the noise stream of a query is
 * rng(noiseSeed).split(key), so it does not depend on batch order, batch split or thread.
 */
export function pointKey(words: Uint32Array): number {
  let h0 = 0x3c6ef372 ^ words.length;
  let h1 = 0xa54ff53a;
  for (let k = 0; k < words.length; k++) {
    const w = words[k];
    h0 = mix32((h0 ^ w) + 0x9e3779b9 + k);
    h1 = mix32(Math.imul(h1 ^ w, 0x1b873593) + h0);
  }
  h0 = mix32(h0 ^ h1);
  return (h1 >>> 11) * 4294967296 + h0;
}

function networkIdentity(net: DenseNetwork, noise: number, noiseSeed: number): string {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      format: 'nnid.network/v1',
      activation: [net.layer1, net.layer2],
      dims: [net.inputDim, net.width1, net.width2],
      noise: noise === 0 ? 0 : [noise, noiseSeed],
    }),
  );
  for (const a of [net.A, net.theta, net.B, net.tau]) hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  const hex = hash.digest('hex').slice(0, 32);
  return `nnid.network:d${net.inputDim}-m${net.width1}-m${net.width2}:${hex}`;
}

function makeBlackBox(dense: DenseNetwork, noise: number, noiseSeed: number, identity?: string): NetworkBlackBox {
  const id = identity ?? networkIdentity(dense, noise, noiseSeed);
  const root: RandomStream = rng(noiseSeed);
  const d = dense.inputDim;
  const scratch = new Float64Array(d);
  const words = new Uint32Array(scratch.buffer);
  const hidden = new Float64Array(dense.width1);

  function evaluateSync(inputs: Float64View): Float64Array {
    const { rows, rowStride, colStride } = checkBatch(inputs, d);
    const out = new Float64Array(rows);
    evaluateDense(dense, inputs.data, inputs.offset, rows, rowStride, colStride, out, hidden);
    if (noise > 0) {
      for (let r = 0; r < rows; r++) {
        const base = inputs.offset + r * rowStride;
        for (let j = 0; j < d; j++) scratch[j] = inputs.data[base + j * colStride];
        out[r] += noise * root.split(pointKey(words)).normal();
      }
    }
    return out;
  }

  return {
    inputDim: d,
    identity: id,
    noise,
    noiseSeed,
    evaluateSync,
    evaluate: async (inputs) => evaluateSync(inputs),
    workerSpec: () => ({
      kind: 'nnid.network-black-box/v1',
      identity: id,
      layer1: dense.layer1,
      layer2: dense.layer2,
      inputDim: dense.inputDim,
      width1: dense.width1,
      width2: dense.width2,
      A: dense.A,
      theta: dense.theta,
      B: dense.B,
      tau: dense.tau,
      noise,
      noiseSeed,
    }),
    close: async () => {},
  };
}

/**
 * The network as a BlackBox, optionally with additive Gaussian noise of std `noise`. The noise
 * on a query depends only on (noiseSeed, the exact Float64 bits of x): asking the same point
 * again, in another batch, order or thread, gives the same answer.
 *
 * @example
 * const oracle = createOracle(networkBlackBox(net, { noise: 1e-6, noiseSeed: 1 }), { maxQueries: 1e5 });
 */
export function networkBlackBox(net: Network, options: NetworkBlackBoxOptions = {}): NetworkBlackBox {
  const noise = checkPositive('noise', options.noise ?? 0, true);
  const noiseSeed = checkInteger('noiseSeed', options.noiseSeed ?? 0, 0);
  return makeBlackBox(toDenseNetwork(net), noise, noiseSeed);
}

/**
 * Rebuilds, in a worker thread, the black box that `workerSpec()` described. It answers exactly
 * as the original (same numbers, same noise).
 *
 * @example
 * const box = blackBoxFromWorkerSpec(task.spec); const values = await box.evaluate(batch);
 */
export function blackBoxFromWorkerSpec(spec: unknown): NetworkBlackBox {
  const s = spec as NetworkWorkerSpec;
  if (!s || typeof s !== 'object' || s.kind !== 'nnid.network-black-box/v1') {
    invalidArgument('spec', "must be a worker spec of kind 'nnid.network-black-box/v1'", s && typeof s === 'object' ? s.kind : s);
  }
  for (const name of ['layer1', 'layer2'] as const) {
    if (!(ACTIVATIONS as readonly string[]).includes(s[name])) invalidArgument(`spec.${name}`, 'must be an activation name', s[name]);
  }
  const d = checkInteger('spec.inputDim', s.inputDim);
  const m0 = checkInteger('spec.width1', s.width1);
  const m1 = checkInteger('spec.width2', s.width2);
  const sizes: [keyof NetworkWorkerSpec, number][] = [['A', m0 * d], ['theta', m0], ['B', m1 * m0], ['tau', m1]];
  for (const [name, n] of sizes) {
    const a = s[name];
    if (!(a instanceof Float64Array) || a.length !== n) invalidArgument(`spec.${name}`, `must be a Float64Array of ${n} numbers`, a);
  }
  const dense: DenseNetwork = {
    layer1: s.layer1,
    layer2: s.layer2,
    inputDim: d,
    width1: m0,
    width2: m1,
    A: s.A,
    theta: s.theta,
    B: s.B,
    tau: s.tau,
  };
  return makeBlackBox(dense, checkPositive('spec.noise', s.noise, true), checkInteger('spec.noiseSeed', s.noiseSeed, 0), s.identity);
}

/** The Network of a worker spec (views over the spec's arrays, no copy). */
export function networkFromWorkerSpec(spec: NetworkWorkerSpec): Network {
  return {
    activation: { layer1: spec.layer1, layer2: spec.layer2 },
    inputDim: spec.inputDim,
    width1: spec.width1,
    width2: spec.width2,
    A: matrixFrom(spec.A, spec.width1, spec.inputDim),
    theta: spec.theta,
    B: matrixFrom(spec.B, spec.width2, spec.width1),
    tau: spec.tau,
  };
}
