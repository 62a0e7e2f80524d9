/**
 * Seeded random streams that split by key. `rng(seed).split(k)` is a stream that depends only on
 * (seed, k), never on how many numbers other streams drew: give each sample point its own stream
 * (`split(pointIndex)`) and results do not depend on how points are divided among threads.
 *
 * Generator: xoshiro128** (32-bit state words), seeded through a splitmix32-style hash of the
 * seed and the split path.
 *
 * @example
 * const root = rng(42);
 * const x = root.split(7).normal();    // the same on every thread, every run
 */
import { invalidArgument } from './errors.ts';

function mix32(h: number): number {
  // murmur3 finalizer: a bijection of uint32 with full avalanche.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashPath(path: readonly number[]): number[] {
  let h0 = 0x9e3779b9;
  let h1 = 0x243f6a88;
  for (const k of path) {
    // keys up to 2^53: fold the high part in too
    const lo = k >>> 0;
    const hi = Math.floor(k / 4294967296) >>> 0;
    h0 = mix32(h0 ^ mix32(lo + 0x7f4a7c15));
    h1 = mix32(h1 ^ mix32(hi + 0x85a308d3) ^ h0);
    h0 = mix32(h0 + h1);
  }
  const s: number[] = [];
  let z = h0 ^ mix32(h1);
  for (let i = 0; i < 4; i++) {
    z = (z + 0x9e3779b9) >>> 0;
    s.push(mix32(z ^ mix32(h1 + i)));
  }
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return s;
}

export class RandomStream {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = NaN;
  /** The split path from the root seed; `split(k)` appends k. */
  readonly path: readonly number[];

  constructor(path: readonly number[]) {
    this.path = path;
    const s = hashPath(path);
    this.s0 = s[0];
    this.s1 = s[1];
    this.s2 = s[2];
    this.s3 = s[3];
  }

  /** A new independent stream keyed by `key` (a nonnegative integer). */
  split(...keys: number[]): RandomStream {
    for (const k of keys) {
      if (!Number.isInteger(k) || k < 0) invalidArgument('key', 'must be a nonnegative integer', k);
    }
    return new RandomStream([...this.path, ...keys]);
  }

  /** A uniform uint32. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box-Muller, the second value cached). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = NaN;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Fills `out` with N(mean, std^2) samples. */
  fillNormal(out: Float64Array, mean = 0, std = 1): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Fills `out` with a point uniform on the sphere of radius `radius`. */
  fillSphere(out: Float64Array, radius = 1): Float64Array {
    // an empty vector has no point on the sphere: the loop below would never end
    if (out.length === 0) invalidArgument('out', 'must have length >= 1 (a point on the unit sphere of R^0 does not exist)', out.length);
    let norm = 0;
    while (norm === 0) {
      this.fillNormal(out);
      norm = 0;
      for (let i = 0; i < out.length; i++) norm += out[i] * out[i];
    }
    const scale = radius / Math.sqrt(norm);
    for (let i = 0; i < out.length; i++) out[i] *= scale;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The root stream of a seed (a nonnegative integer). */
export function rng(seed: number): RandomStream {
  if (!Number.isInteger(seed) || seed < 0) invalidArgument('seed', 'must be a nonnegative integer', seed);
  return new RandomStream([seed]);
}
