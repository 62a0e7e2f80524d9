/**
 * The worker side: rebuild the black box from its spec (kept between tasks of one pool) and run
 * a chunk of points, writing into the shared output stack. Errors come back as plain data so
 * that their `code` survives the thread boundary.
 */
import { fromDescriptor, type Float64View } from '@nnid/core';
import { blackBoxFromWorkerSpec, bridgeBlackBox, type BridgeSpec, type NetworkBlackBox } from '@nnid/oracle';
import type { BlackBox } from '@nnid/core';
import { runChunk, type WorkerResult, type WorkerTask } from './chunk.ts';

let cached: { identity: string; box: NetworkBlackBox } | null = null;

function boxFor(spec: unknown): NetworkBlackBox {
  const identity = (spec as { identity?: unknown })?.identity;
  if (cached && typeof identity === 'string' && cached.identity === identity) return cached.box;
  const box = blackBoxFromWorkerSpec(spec);
  cached = { identity: box.identity, box };
  return box;
}

let served: { name: string; box: BlackBox } | null = null;

/** The main thread's service of the black box (kept between tasks of one service). */
function servedBox(spec: BridgeSpec): BlackBox {
  if (served && served.name === spec.name) return served.box;
  void served?.box.close?.();
  served = { name: spec.name, box: bridgeBlackBox(spec) };
  return served.box;
}

export default async function samplerTask(task: WorkerTask): Promise<WorkerResult> {
  let queries = 0;
  try {
    const evaluate: (batch: Float64View) => Promise<Float64Array> | Float64Array = task.bridge
      ? ((box) => (batch: Float64View) => box.evaluate(batch))(servedBox(task.bridge))
      : ((box) => (batch: Float64View) => box.evaluateSync(batch))(boxFor(task.spec));
    await runChunk(
      {
        kind: task.kind,
        scheme: task.scheme,
        layout: task.layout,
        dirs: task.dirs,
        reducedDim: task.reducedDim,
        step: task.step,
        points: fromDescriptor(task.points),
        start: task.start,
        end: task.end,
        out: fromDescriptor(task.out),
        grads: task.grads ? fromDescriptor(task.grads) : null,
        maxBatchRows: task.maxBatchRows,
      },
      async (batch) => {
        const values = await evaluate(batch);
        queries += batch.shape[0];
        return values;
      },
    );
    return { ok: true, queries };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { ok: false, queries, code: err?.code, message: err?.message ?? String(e), stack: err?.stack };
  }
}
