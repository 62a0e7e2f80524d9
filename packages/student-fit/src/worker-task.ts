/** The worker side: one start of the student fit; errors come back as data so their `code` survives. */
import { runStart, type StartOutcome, type StartTask } from './start.ts';

export type StartResult = { ok: true; outcome: StartOutcome } | { ok: false; code?: string; message: string; stack?: string };

export default async function startTask(task: StartTask): Promise<StartResult> {
  try {
    return { ok: true, outcome: await runStart(task) };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { ok: false, code: err?.code, message: err?.message ?? String(e), stack: err?.stack };
  }
}
