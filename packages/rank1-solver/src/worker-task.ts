/** The worker side: run a chunk of starts; errors come back as data so their `code` survives. */
import { runChunk, type ChunkResult, type ChunkTask } from './task.ts';

export default function solverTask(task: ChunkTask): ChunkResult {
  try {
    runChunk(task);
    return { ok: true };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { ok: false, code: err?.code, message: err?.message ?? String(e), stack: err?.stack };
  }
}
