/**
 * Worker threads for the row blocks of refineNetwork's normal equations: `run(task)` resolves to
 * the block's sum of squared residuals; a worker's error is thrown with its code.
 */
import { createWorkerPool, errorFromWorker, workerEntryUrl } from '@nnid/core';
import type { BlockTask } from './blocks.ts';
import type { BlockResult } from './worker-task.ts';

export interface RefinePool {
  readonly threads: number;
  /** Runs one block in a worker; resolves to its sum of squared residuals. */
  run(task: BlockTask): Promise<number>;
  close(): Promise<void>;
}

export function createRefinePool(options: { threads: number }): RefinePool {
  const pool = createWorkerPool<BlockTask, BlockResult>({ filename: workerEntryUrl(import.meta.url, { source: './worker.mjs', built: './worker-task.js' }), threads: options?.threads, name: 'refine' });
  return {
    threads: pool.threads,
    async run(task) {
      const [sum] = await pool.runAll([task], 'refine blocks', (result) => {
        if (!result.ok) throw errorFromWorker(result, 'refine');
        return result.sum;
      });
      return sum;
    },
    close: () => pool.close(),
  };
}
