/**
 * Worker threads (piscina) for the row blocks of refineNetwork's normal equations: a factory
 * returning `{ threads, run, close }`.
 */
import { checkInteger, errorFromWorker, ErrorCodes, NnidError } from '@nnid/core';
import { Piscina } from 'piscina';
import type { BlockTask } from './blocks.ts';
import type { BlockResult } from './worker-task.ts';

export interface RefinePool {
  readonly threads: number;
  /** Runs one block in a worker; resolves to its sum of squared residuals. */
  run(task: BlockTask): Promise<number>;
  close(): Promise<void>;
}

export function createRefinePool(options: { threads: number }): RefinePool {
  const threads = checkInteger('threads', options?.threads, 1, 1024);
  const piscina = new Piscina<BlockTask, BlockResult>({
    filename: new URL('./worker.mjs', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    concurrentTasksPerWorker: 1,
  });
  let closed = false;
  return {
    threads,
    async run(task) {
      if (closed) throw new NnidError(ErrorCodes.worker, 'the refine pool is closed');
      const result = await piscina.run(task);
      if (!result.ok) throw errorFromWorker(result, 'refine');
      return result.sum;
    },
    async close() {
      if (closed) return;
      closed = true;
      await piscina.destroy();
    },
  };
}
