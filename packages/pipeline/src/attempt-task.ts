/** The worker side of attempt lanes: one attempt's refinement; errors come back as data so their `code` survives. */
import { setBlasThreads } from '@nnid/linalg';
import type { Float64View, Network } from '@nnid/core';
import { refineStages, type RefineStagesOptions, type RefineStagesResult } from './refine-stages.ts';

export interface AttemptTask {
  start: Network;
  /** Shared memory: read by every lane, never copied. */
  data: { inputs: Float64View; values: Float64Array };
  options: RefineStagesOptions;
}

export type AttemptTaskResult = { ok: true; result: RefineStagesResult } | { ok: false; code?: string; message: string; stack?: string };

export default async function attemptTask(task: AttemptTask): Promise<AttemptTaskResult> {
  try {
    // one OpenBLAS thread per lane (its count is process-wide); the row blocks run one after the other here
    setBlasThreads(1);
    return { ok: true, result: await refineStages(task.start, task.data, { ...task.options, threads: 1 }) };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { ok: false, code: err?.code, message: err?.message ?? String(e), stack: err?.stack };
  }
}
