/**
 * Worker threads for the row blocks of refineNetwork's normal equations and of the matrix-free
 * operator's products: `run(task)` / `runOperator(task)` resolve to the block's value (its sum of
 * squared residuals; 0 for a product); a worker's error is thrown with its code.
 */
import { createWorkerPool, errorFromWorker, workerEntryUrl } from '@nnid/core';
import type { BlockTask } from './blocks.ts';
import type { OperatorTask } from './jacobian-operator.ts';
import type { BlockResult } from './worker-task.ts';

export interface RefinePool {
  readonly threads: number;
  /** Runs one block in a worker; resolves to its sum of squared residuals. */
  run(task: BlockTask): Promise<number>;
  /** Runs one row block of the matrix-free operator in a worker (see runOperatorBlock). */
  runOperator(task: OperatorTask): Promise<number>;
  close(): Promise<void>;
}

export function createRefinePool(options: { threads: number }): RefinePool {
  const pool = createWorkerPool<BlockTask | OperatorTask, BlockResult>({ filename: workerEntryUrl(import.meta.url, { source: './worker.mjs', built: './worker-task.js' }), threads: options?.threads, name: 'refine' });
  const one = async (task: BlockTask | OperatorTask) => {
    const [sum] = await pool.runAll([task], 'refine blocks', (result) => {
      if (!result.ok) throw errorFromWorker(result, 'refine');
      return result.sum;
    });
    return sum;
  };
  return {
    threads: pool.threads,
    run: one,
    runOperator: one,
    close: () => pool.close(),
  };
}
