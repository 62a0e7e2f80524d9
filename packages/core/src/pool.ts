/**
 * A fixed-size pool of worker threads (piscina) running one task type, the base of the sampler's,
 * the rank-one solver's and refine's pools: `runAll` runs tasks and maps each worker result,
 * `close()` destroys the pool (a closed pool refuses tasks).
 */
import { Piscina } from 'piscina';
import { checkInteger, ErrorCodes, NnidError, settleAll } from './errors.ts';

export interface WorkerPool<Task, Result> {
  readonly threads: number;
  /**
   * Runs every task and `handle`s each result (in completion order; what it returns or throws is
   * that task's outcome); if tasks fail, the others still finish, then the one error is thrown, or
   * an AggregateError "n of m `what` failed" (see settleAll). Values come back in task order.
   */
  runAll<V>(tasks: Task[], what: string, handle: (result: Result, index: number) => V): Promise<V[]>;
  close(): Promise<void>;
}

/**
 * The file URL of a worker entry beside the calling module (`moduleUrl` = its `import.meta.url`).
 * Run from the TypeScript sources (the workspace, under tsx or vitest) it is `source`, the small
 * `.mjs` entry that registers tsx inside the worker thread; run from the built package (dist, plain
 * node) it is `built`, the compiled task module itself. The task's code, and its bits, are the same.
 *
 * @example
 * createWorkerPool({ filename: workerEntryUrl(import.meta.url, { source: './worker.mjs', built: './worker-task.js' }), threads: 2, name: 'solver' });
 */
export function workerEntryUrl(moduleUrl: string, entries: { source: string; built: string }): string {
  return new URL(moduleUrl.endsWith('.ts') ? entries.source : entries.built, moduleUrl).href;
}

/**
 * Starts `threads` workers on the module `filename` (a file URL; its default export runs a task).
 * `name` names the pool in errors ("the sampler pool is closed").
 */
export function createWorkerPool<Task, Result>(options: { filename: string; threads: number; name: string }): WorkerPool<Task, Result> {
  const threads = checkInteger('threads', options.threads, 1, 1024);
  const piscina = new Piscina<Task, Result>({
    filename: options.filename,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    // tasks carry their own chunk of work; a queue of the pending ones is all we need
    concurrentTasksPerWorker: 1,
  });
  let closed = false;
  return {
    threads,
    async runAll(tasks, what, handle) {
      if (closed) throw new NnidError(ErrorCodes.worker, `the ${options.name} pool is closed`);
      return settleAll(
        tasks.map(async (task, i) => handle(await piscina.run(task), i)),
        what,
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      await piscina.destroy();
    },
  };
}
