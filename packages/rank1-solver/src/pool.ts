/**
 * A pool of solver worker threads (piscina): a factory returning `{ threads, run, close }`.
 * If tasks fail, the others still finish, then the one error is thrown, or an AggregateError
 * when several failed. `close()` destroys the pool.
 */
import { checkInteger, errorFromWorker, ErrorCodes, NnidError, settleAll } from '@nnid/core';
import { Piscina } from 'piscina';
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
  const threads = checkInteger('threads', options?.threads, 1, 1024);
  const piscina = new Piscina<ChunkTask, ChunkResult>({
    filename: new URL('./worker.mjs', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    concurrentTasksPerWorker: 1,
  });
  let closed = false;
  return {
    threads,
    async run(tasks, onDone) {
      if (closed) throw new NnidError(ErrorCodes.worker, 'the solver pool is closed');
      await settleAll(
        tasks.map(async (task, i) => {
          const result = await piscina.run(task);
          if (!result.ok) throw errorFromWorker(result, 'rank-one solver');
          onDone?.(i);
        }),
        'solver tasks',
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      await piscina.destroy();
    },
  };
}
