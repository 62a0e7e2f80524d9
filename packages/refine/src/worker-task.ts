/** The worker side: one row block of the normal equations or of the matrix-free operator's products; errors come back as data so their `code` survives. */
import { setBlasThreads } from '@nnid/linalg';
import { runBlock, type BlockTask } from './blocks.ts';
import { runOperatorBlock, type OperatorTask } from './jacobian-operator.ts';

export type BlockResult = { ok: true; sum: number } | { ok: false; code?: string; message: string; stack?: string };

export default function blockTask(task: BlockTask | OperatorTask): BlockResult {
  try {
    setBlasThreads(1);
    return { ok: true, sum: 'kind' in task && task.kind === 'operator' ? runOperatorBlock(task) : runBlock(task as BlockTask) };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { ok: false, code: err?.code, message: err?.message ?? String(e), stack: err?.stack };
  }
}
