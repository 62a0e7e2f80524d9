/**
 * The contract every stage's public entry keeps (scikit-learn's common estimator checks, for
 * nnid): a stage package describes how to make its inputs and read its outputs, and
 * `describeStageContract` runs the same checks over it:
 *
 * - the same seed gives the same bits (two runs on fresh, equal inputs);
 * - 1 and 2 threads give the same bits (where the stage takes threads);
 * - inputs are not mutated (every typed array reachable from the input, byte for byte);
 * - strided, transposed and ndarray copies of the view arguments give the dense result;
 * - the report survives JSON: JSON.parse(JSON.stringify(report)) deep-equals it;
 * - bad arguments fail with the house template:
 *   ``invalid argument. `name` must be ... Value: `v`.`` (E_INVALID_ARGUMENT or E_DIMENSION_MISMATCH).
 *
 * @example
 * describeStageContract({
 *   name: 'estimateSubspace',
 *   inputs: () => ({ stack: randomMatrix(12, 21, 1) }),
 *   run: (input) => estimateSubspace(input.stack, { layout: 'packed', dimension: 3 }),
 *   outputs: (r) => ({ basis: r.subspace.basis, singularValues: r.singularValues }),
 *   report: (r) => r.report,
 *   layouts: (input, relay) => ({ stack: relay(input.stack) }),
 *   badArguments: () => [{ call: () => estimateSubspace(matrix(3, 7), { layout: 'packed' }), message: "invalid argument. ..." }],
 * });
 */
import { describe, expect, it } from 'vitest';
import { asView, toNdarray, type Float64View, type ViewLike } from '@nnid/core';
import { at, gappedCopy, transposedCopy } from './matrices.ts';

/** Where the stage takes them: the seed and the thread count of one run. */
export interface StageSettings {
  seed: number;
  threads: number;
}

/** One numerical output: a 2-d or 1-d view, an array of numbers, or a number. */
export type StageOutput = Float64View | ArrayLike<number> | number;

export interface BadArgument {
  /** The call with a bad argument (may throw or reject). */
  call: () => unknown;
  /** The exact message expected. */
  message: string;
}

export interface StageContract<Input, Result> {
  /** The public entry, for the suite's title. */
  name: string;
  /** Fresh inputs: new arrays (and oracles) each call, holding the same numbers every call. */
  inputs: () => Input | Promise<Input>;
  /** Runs the stage. `settings.seed` and `settings.threads` are for stages that take them. */
  run: (input: Input, settings: StageSettings) => Result | Promise<Result>;
  /** The numbers the stage computes, compared bit for bit (or within `layoutTolerance`). */
  outputs: (result: Result) => Record<string, StageOutput>;
  /** The stage's JSON report. */
  report: (result: Result) => unknown;
  /** The stage takes a thread count: 1 and 2 threads must give the same bits. */
  threads?: boolean;
  /**
   * The input with each view argument replaced by `relay(view)`: the contract relays them as a
   * transposed view, a gapped strided view with an offset, and (unless `ndarray` is false) a
   * scijs ndarray over the same numbers.
   */
  layouts?: (input: Input, relay: (view: ViewLike) => ViewLike) => Input;
  /** Whether the view arguments may be ndarrays (default true). */
  ndarray?: boolean;
  /**
   * Largest |other layout - dense| / max(1, |dense|) allowed over the outputs (default 0: the
   * same bits). A stage whose linear algebra sums in another order for another layout sets it.
   */
  layoutTolerance?: number;
  /** Calls with bad arguments and the messages they must fail with. */
  badArguments?: (input: Input) => BadArgument[];
}

/** Every typed array reachable from `value` through plain objects and arrays. */
export function typedArrays(value: unknown, seen = new Set<unknown>(), out: ArrayBufferView[] = []): ArrayBufferView[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (ArrayBuffer.isView(value)) {
    out.push(value);
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return out;
  for (const v of Object.values(value as object)) typedArrays(v, seen, out);
  return out;
}

function copyBytes(a: ArrayBufferView): Uint8Array {
  return Uint8Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** An output as a flat array of numbers (a view read through its strides). */
function flatten(output: StageOutput): Float64Array {
  if (typeof output === 'number') return Float64Array.of(output);
  if (output && typeof output === 'object' && 'strides' in output && 'shape' in output) {
    const v = output as Float64View;
    if (v.shape.length === 1) return Float64Array.from({ length: v.shape[0] }, (_, i) => v.data[v.offset + i * v.strides[0]]);
    const [r, c] = v.shape;
    const out = new Float64Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c + j] = at(v, i, j);
    return out;
  }
  return Float64Array.from(output as ArrayLike<number>);
}

function flatOutputs<R>(contract: StageContract<unknown, R>, result: R): Map<string, Float64Array> {
  return new Map(Object.entries(contract.outputs(result)).map(([k, v]) => [k, flatten(v)]));
}

/** Names of the outputs whose bits differ (or whose lengths do). */
function differingBits(a: Map<string, Float64Array>, b: Map<string, Float64Array>): string[] {
  const names = [...new Set([...a.keys(), ...b.keys()])];
  return names.filter((k) => {
    const x = a.get(k);
    const y = b.get(k);
    if (!x || !y || x.length !== y.length) return true;
    return !Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  });
}

/** The names of the outputs whose bits differ between two sets of outputs. */
export function differingOutputs(a: Record<string, StageOutput>, b: Record<string, StageOutput>): string[] {
  const flat = (o: Record<string, StageOutput>) => new Map(Object.entries(o).map(([k, v]) => [k, flatten(v)]));
  return differingBits(flat(a), flat(b));
}

/** The largest |x - y| / max(1, |y|) over all outputs (Infinity on a length mismatch). */
function relativeDifference(a: Map<string, Float64Array>, b: Map<string, Float64Array>): number {
  let worst = 0;
  for (const [k, y] of b) {
    const x = a.get(k);
    if (!x || x.length !== y.length) return Number.POSITIVE_INFINITY;
    for (let i = 0; i < y.length; i++) {
      const d = Object.is(x[i], y[i]) ? 0 : Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i]));
      worst = Math.max(worst, Number.isNaN(d) ? Number.POSITIVE_INFINITY : d);
    }
  }
  return worst;
}

/** A report without its timings (the one part that differs between equal runs). */
export function withoutTimings(report: unknown): unknown {
  if (Array.isArray(report)) return report.map(withoutTimings);
  if (report === null || typeof report !== 'object') return report;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(report)) {
    if (k === 'seconds' || k === 'timeMs' || k.endsWith('Seconds') || k.endsWith('Ms')) continue;
    out[k] = withoutTimings(v);
  }
  return out;
}

/** The house template for a bad argument. */
export const HOUSE_TEMPLATE = /^invalid argument\. `[^`]+` .+\. Value: `[\s\S]*`\.$/;

async function failure(call: () => unknown): Promise<{ code?: string; message: string } | null> {
  try {
    await call();
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message };
  }
  return null;
}

/** Runs the stage contract over one public entry as a vitest suite. */
export function describeStageContract<Input, Result>(contract: StageContract<Input, Result>): void {
  const c = contract as unknown as StageContract<unknown, Result>;
  const settings: StageSettings = { seed: 7, threads: 1 };
  const runOnce = async (input?: unknown, s: StageSettings = settings) => c.run(input ?? (await c.inputs()), s);

  describe(`stage contract: ${contract.name}`, () => {
    it('gives the same bits for the same seed (fresh inputs), and a report without timings that is the same', async () => {
      const first = await runOnce();
      const second = await runOnce();
      expect(differingBits(flatOutputs(c, first), flatOutputs(c, second))).toEqual([]);
      expect(withoutTimings(c.report(second))).toEqual(withoutTimings(c.report(first)));
    });

    if (contract.threads) {
      it('gives the same bits on 1 and 2 threads', async () => {
        const one = await runOnce(undefined, { ...settings, threads: 1 });
        const two = await runOnce(undefined, { ...settings, threads: 2 });
        expect(differingBits(flatOutputs(c, one), flatOutputs(c, two))).toEqual([]);
      });
    }

    it('does not mutate its inputs', async () => {
      const input = await c.inputs();
      const arrays = typedArrays(input);
      expect(arrays.length).toBeGreaterThan(0);
      const before = arrays.map(copyBytes);
      await c.run(input, settings);
      const changed = arrays.flatMap((a, i) => (Buffer.from(copyBytes(a)).equals(Buffer.from(before[i])) ? [] : [i]));
      expect(changed).toEqual([]);
    });

    const layouts = c.layouts;
    if (layouts) {
      const relays: [string, (v: ViewLike) => ViewLike][] = [
        ['a transposed view (strides [1, rows])', (v) => transposedCopy(asView(v))],
        ['a gapped view with an offset (strides [2 cols, 2])', (v) => gappedCopy(asView(v))],
      ];
      if (contract.ndarray ?? true) relays.push(['an ndarray (gapped, with an offset)', (v) => toNdarray(gappedCopy(asView(v)))]);
      for (const [what, relay] of relays) {
        it(`reads ${what} as the dense input`, async () => {
          const dense = flatOutputs(c, await runOnce());
          const other = flatOutputs(c, await runOnce(layouts(await c.inputs(), relay)));
          const tolerance = contract.layoutTolerance ?? 0;
          if (tolerance === 0) expect(differingBits(other, dense)).toEqual([]);
          else expect(relativeDifference(other, dense)).toBeLessThanOrEqual(tolerance);
        });
      }
    }

    it('gives a report that survives JSON', async () => {
      const report = c.report(await runOnce());
      expect(report).toBeTypeOf('object');
      expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    });

    if (c.badArguments) {
      const bad = c.badArguments;
      it('refuses bad arguments in the house template', async () => {
        const cases = bad(await c.inputs());
        expect(cases.length).toBeGreaterThan(0);
        for (const { call, message } of cases) {
          const e = await failure(call);
          expect(e, message).not.toBeNull();
          expect(e?.message).toBe(message);
          expect(e?.message).toMatch(HOUSE_TEMPLATE);
          expect(['E_INVALID_ARGUMENT', 'E_DIMENSION_MISMATCH']).toContain(e?.code);
        }
      });
    }
  });
}
