/**
 * One chunk of points [start, end): build stencils, evaluate in batches, combine into the
 * output rows. Runs the same way in a worker and in the main thread.
 */
import type { Float64View, ViewDescriptor } from '@nnid/core';
import type { BridgeSpec } from '@nnid/oracle';
import { combineGradient, combineHessian, fillStencil, stencilRows, type Kind, type Layout, type Scheme } from './stencil.ts';

export interface ChunkJob {
  kind: Kind;
  scheme: Scheme;
  layout: Layout;
  /** Directions (r x d dense), or null for the unit vectors. */
  dirs: Float64Array | null;
  reducedDim: number;
  step: number;
  points: Float64View;
  start: number;
  end: number;
  /** The output stack: Hessians (kind 'hessian') or gradients (kind 'gradient'); one row per point. */
  out: Float64View;
  /** Gradients from the Hessian stencil (kind 'hessian' only), or null. */
  grads: Float64View | null;
  /** Upper bound on rows per evaluation batch (at least one point's stencil). */
  maxBatchRows: number;
}

/** What a worker receives: views as descriptors, the black box as its worker spec or as the main thread's service. */
export interface WorkerTask {
  /** The black box's worker spec (null when it is served from the main thread). */
  spec: unknown;
  /** The main thread's service of a black box without a worker spec (@nnid/oracle's serveBlackBox). */
  bridge: BridgeSpec | null;
  kind: Kind;
  scheme: Scheme;
  layout: Layout;
  dirs: Float64Array | null;
  reducedDim: number;
  step: number;
  points: ViewDescriptor;
  out: ViewDescriptor;
  grads: ViewDescriptor | null;
  start: number;
  end: number;
  maxBatchRows: number;
}

/** `queries`: the queries made, also by a task that failed part-way (they are spent all the same). */
export type WorkerResult = { ok: true; queries: number } | { ok: false; queries: number; code?: string; message: string; stack?: string };

/** Runs a chunk; returns the number of queries made. */
export async function runChunk(job: ChunkJob, evaluate: (batch: Float64View) => Promise<Float64Array>, onBatch?: (pointsDone: number) => void): Promise<number> {
  const { kind, scheme, layout, dirs, reducedDim: r, step: h, points, out, grads } = job;
  const d = points.shape[1];
  const rowsPerPoint = stencilRows(kind, scheme, r);
  const perBatch = Math.max(1, Math.floor(job.maxBatchRows / rowsPerPoint));
  const x = new Float64Array(d);
  const batchData = new Float64Array(Math.min(perBatch, job.end - job.start) * rowsPerPoint * d);
  const ps0 = points.strides[0];
  const ps1 = points.strides[1];
  let queries = 0;
  for (let p0 = job.start; p0 < job.end; p0 += perBatch) {
    const p1 = Math.min(job.end, p0 + perBatch);
    for (let p = p0; p < p1; p++) {
      const base = points.offset + p * ps0;
      for (let k = 0; k < d; k++) x[k] = points.data[base + k * ps1];
      fillStencil(kind, scheme, x, 0, d, r, dirs, h, batchData, (p - p0) * rowsPerPoint);
    }
    const rows = (p1 - p0) * rowsPerPoint;
    const values = await evaluate({ data: batchData, offset: 0, shape: [rows, d], strides: [d, 1] });
    queries += rows;
    for (let p = p0; p < p1; p++) {
      const fo = (p - p0) * rowsPerPoint;
      const oo = out.offset + p * out.strides[0];
      if (kind === 'hessian') {
        combineHessian(scheme, layout, values, fo, r, h, out.data, oo, grads ? grads.data : null, grads ? grads.offset + p * grads.strides[0] : 0);
      } else {
        combineGradient(scheme, values, fo, r, h, out.data, oo);
      }
    }
    onBatch?.(p1 - p0);
  }
  return queries;
}
