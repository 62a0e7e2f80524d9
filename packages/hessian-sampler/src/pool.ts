/**
 * A pool of sampler worker threads (piscina): a factory returning `{ run, close }`.
 * `run(tasks)` runs every task and resolves with their results in order; if tasks fail, the
 * others still finish, then the one error is thrown, or an AggregateError when several failed.
 * `close()` destroys the pool.
 */
import { createWorkerPool, errorFromWorker, workerEntryUrl } from '@nnid/core';
import type { WorkerResult, WorkerTask } from './chunk.ts';

export interface SamplerPool {
  readonly threads: number;
  /**
   * Runs the tasks; `onDone(i, queries, ok)` after each task, with the queries it made (a task
   * that failed part-way reports those it made before failing).
   */
  run(tasks: WorkerTask[], onDone?: (index: number, queries: number, ok: boolean) => void): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * Starts `threads` worker threads.
 *
 * @example
 * const pool = createSamplerPool({ threads: 2 });
 * try { await sampleHessians(oracle, points, { pool }); } finally { await pool.close(); }
 */
export function createSamplerPool(options: { threads: number }): SamplerPool {
  const pool = createWorkerPool<WorkerTask, WorkerResult>({ filename: workerEntryUrl(import.meta.url, { source: './worker.mjs', built: './worker-task.js' }), threads: options.threads, name: 'sampler' });
  return {
    threads: pool.threads,
    run(tasks, onDone) {
      return pool.runAll(tasks, 'sampling tasks', (result, i) => {
        onDone?.(i, result.queries, result.ok);
        if (!result.ok) throw errorFromWorker(result, 'sampler');
        return result.queries;
      });
    },
    close: () => pool.close(),
  };
}
