/**
 * One chunk of starts: the same code runs in a worker thread (worker-task.ts) and in the main
 * thread (threads = 1), so results never depend on where a start ran.
 */
import { fromDescriptor, rng, type ViewDescriptor } from '@nnid/core';
import { ascend, ascentScratch } from './kernel.ts';
import { ascendBlock, BATCH_FROM, BATCH_ROWS, unpackStack } from './batch.ts';

export interface ChunkTask {
  /** k x p packed (unscaled) matrices in the search coordinates. */
  W: ViewDescriptor;
  n: number;
  k: number;
  gamma: number;
  maxIterations: number;
  tolerance: number;
  newtonSwitch: number;
  seed: number;
  start: number;
  end: number;
  /** Explicit start vectors (starts x n), else random from rng(seed).split(start index). */
  startVectors: ViewDescriptor | null;
  /** starts x n: the final vectors. */
  out: ViewDescriptor;
  /** starts x 4: phi, iterations, converged (0/1), Newton steps. */
  stats: ViewDescriptor;
}

export type ChunkResult = { ok: true } | { ok: false; code?: string; message: string; stack?: string };

export function runChunk(task: ChunkTask): void {
  const W = fromDescriptor(task.W);
  const out = fromDescriptor(task.out);
  const stats = fromDescriptor(task.stats);
  const starts = task.startVectors ? fromDescriptor(task.startVectors) : null;
  const { n, k } = task;
  const s = ascentScratch(n, k);
  const Wd = W.data.subarray(W.offset, W.offset + k * ((n * (n + 1)) / 2));
  const root = rng(task.seed);
  const startAt = (i: number, u: Float64Array, uAt: number) => {
    if (starts) {
      let norm = 0;
      for (let a = 0; a < n; a++) {
        const v = starts.data[starts.offset + i * starts.strides[0] + a * starts.strides[1]];
        u[uAt + a] = v;
        norm += v * v;
      }
      norm = Math.sqrt(norm);
      for (let a = 0; a < n; a++) u[uAt + a] /= norm;
    } else {
      root.split(i).fillSphere(u.subarray(uAt, uAt + n));
    }
  };
  const write = (i: number, u: Float64Array, uAt: number, o: { phi: number; iterations: number; converged: boolean; newtonSteps: number }) => {
    const base = out.offset + i * out.strides[0];
    for (let a = 0; a < n; a++) out.data[base + a * out.strides[1]] = u[uAt + a];
    const sb = stats.offset + i * stats.strides[0];
    stats.data[sb] = o.phi;
    stats.data[sb + stats.strides[1]] = o.iterations;
    stats.data[sb + 2 * stats.strides[1]] = o.converged ? 1 : 0;
    stats.data[sb + 3 * stats.strides[1]] = o.newtonSteps;
  };
  const params = { n, k, gamma: task.gamma, maxIterations: task.maxIterations, tolerance: task.tolerance, newtonSwitch: task.newtonSwitch };
  if (k * ((n * (n + 1)) / 2) >= BATCH_FROM) {
    // blocks of BATCH_ROWS start indices (chunks are whole blocks: solve.ts's alignChunkSize)
    const us = new Float64Array(BATCH_ROWS * n);
    const Wfull = unpackStack(Wd, n, k);
    for (let b0 = task.start; b0 < task.end; b0 += BATCH_ROWS) {
      const rows = Math.min(BATCH_ROWS, task.end - b0);
      for (let r = 0; r < rows; r++) startAt(b0 + r, us, r * n);
      const outcomes = ascendBlock(Wd, Wfull, params, us, rows, s);
      for (let r = 0; r < rows; r++) write(b0 + r, us, r * n, outcomes[r]);
    }
    return;
  }
  for (let i = task.start; i < task.end; i++) {
    startAt(i, s.u, 0);
    const o = ascend(Wd, params, s);
    write(i, s.u, 0, o);
  }
}
