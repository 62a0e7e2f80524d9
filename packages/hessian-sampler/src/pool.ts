/**
 * A pool of sampler worker threads (piscina): a factory returning `{ run, close }`.
 * `run(tasks)` runs every task and resolves with their results in order; if tasks fail, the
 * others still finish, then the one error is thrown, or an AggregateError when several failed.
 * `close()` destroys the pool.
 */
import { checkInteger, errorFromWorker, ErrorCodes, NnidError, settleAll } from '@nnid/core';
import { Piscina } from 'piscina';
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
  const threads = checkInteger('threads', options.threads, 1, 1024);
  const piscina = new Piscina<WorkerTask, WorkerResult>({
    filename: new URL('./worker.mjs', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    // tasks carry their own chunk of work; a queue of the pending ones is all we need
    concurrentTasksPerWorker: 1,
  });
  let closed = false;
  return {
    threads,
    async run(tasks, onDone) {
      if (closed) throw new NnidError(ErrorCodes.worker, 'the sampler pool is closed');
      return settleAll(
        tasks.map(async (task, i) => {
          const result = await piscina.run(task);
          onDone?.(i, result.queries, result.ok);
          if (!result.ok) throw errorFromWorker(result, 'sampler');
          return result.queries;
        }),
        'sampling tasks',
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      await piscina.destroy();
    },
  };
}
