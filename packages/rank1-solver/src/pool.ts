/**
 * A pool of solver worker threads (piscina): a factory returning `{ threads, run, close }`.
 * If tasks fail, the others still finish, then the one error is thrown, or an AggregateError
 * when several failed. `close()` destroys the pool.
 */
import { createWorkerPool, errorFromWorker, workerEntryUrl } from '@nnid/core';
import type { ChunkResult, ChunkTask } from './task.ts';

export interface SolverPool {
  readonly threads: number;
  run(tasks: ChunkTask[], onDone?: (index: number) => void): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts `threads` worker threads for `findRankOne`; reuse it across calls, close it at the end.
 *
 * @example
 * const pool = createSolverPool({ threads: 2 });
 * try { await findRankOne(basis, { pool, seed: 1 }); } finally { await pool.close(); }
 */
export function createSolverPool(options: { threads: number }): SolverPool {
  const pool = createWorkerPool<ChunkTask, ChunkResult>({ filename: workerEntryUrl(import.meta.url, { source: './worker.mjs', built: './worker-task.js' }), threads: options?.threads, name: 'solver' });
  return {
    threads: pool.threads,
    async run(tasks, onDone) {
      await pool.runAll(tasks, 'solver tasks', (result, i) => {
        if (!result.ok) throw errorFromWorker(result, 'rank-one solver');
        onDone?.(i);
      });
    },
    close: () => pool.close(),
  };
}
