/**
 * One chunk of starts: the same code runs in a worker thread (worker-task.ts) and in the main
 * thread (threads = 1), so results never depend on where a start ran.
 */
import { fromDescriptor, rng, type ViewDescriptor } from '@nnid/core';
import { ascend, ascentScratch } from './kernel.ts';

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
  for (let i = task.start; i < task.end; i++) {
    if (starts) {
      let norm = 0;
      for (let a = 0; a < n; a++) {
        const v = starts.data[starts.offset + i * starts.strides[0] + a * starts.strides[1]];
        s.u[a] = v;
        norm += v * v;
      }
      norm = Math.sqrt(norm);
      for (let a = 0; a < n; a++) s.u[a] /= norm;
    } else {
      root.split(i).fillSphere(s.u);
    }
    const o = ascend(Wd, { n, k, gamma: task.gamma, maxIterations: task.maxIterations, tolerance: task.tolerance, newtonSwitch: task.newtonSwitch }, s);
    const base = out.offset + i * out.strides[0];
    for (let a = 0; a < n; a++) out.data[base + a * out.strides[1]] = s.u[a];
    const sb = stats.offset + i * stats.strides[0];
    stats.data[sb] = o.phi;
    stats.data[sb + stats.strides[1]] = o.iterations;
    stats.data[sb + 2 * stats.strides[1]] = o.converged ? 1 : 0;
    stats.data[sb + 3 * stats.strides[1]] = o.newtonSteps;
  }
}
