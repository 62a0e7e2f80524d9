/**
 * Attempt lanes: when identify's first attempt fails its check, the next attempts' refinements run
 * side by side in worker threads (one lane per thread), while the main thread prepares the attempts
 * after them. Each lane fits with one thread; the row blocks make those bits the same as the main
 * thread's, so the result does not depend on the thread count.
 */
import { createWorkerPool, errorFromWorker, workerEntryUrl, type Float64View, type Network } from '@nnid/core';
import type { AttemptTask, AttemptTaskResult } from './attempt-task.ts';
import type { RefineStagesOptions, RefineStagesResult } from './refine-stages.ts';

export interface AttemptLanes {
  readonly lanes: number;
  /** One attempt's refinement in a lane (queued when every lane is busy). */
  run(start: Network, data: { inputs: Float64View; values: Float64Array }, options: RefineStagesOptions): Promise<RefineStagesResult>;
  /** Ends every lane, also those still fitting (their results are not wanted). */
  close(): Promise<void>;
}

export function createAttemptLanes(options: { lanes: number }): AttemptLanes {
  const pool = createWorkerPool<AttemptTask, AttemptTaskResult>({ filename: workerEntryUrl(import.meta.url, { source: './attempt-worker.mjs', built: './attempt-task.js' }), threads: options.lanes, name: 'attempt lanes' });
  return {
    lanes: pool.threads,
    async run(start, data, options) {
      const [result] = await pool.runAll([{ start, data, options }], 'attempt refinement', (r) => {
        if (!r.ok) throw errorFromWorker(r, 'identify attempt');
        return r.result;
      });
      return result;
    },
    close: () => pool.close(),
  };
}
