/**
 * The held-out check (held-out.ts) and method auto's use of it: a network that passes the
 * truth-free check on its own data is judged again on fresh points from the unit sphere, N(0, I)
 * and N(0, 4 I); failing there fails the try, the next method runs, and the run reports the verdict.
 * The black box of the method-auto cases is a network plus a bump that is zero within |x| <= 6.5:
 * every point the pipeline and the fit draw lies there (N(0, I_8) beyond 6.5: ~1e-6 a point), about a
 * quarter of N(0, 4 I_8)'s do not. So both pass on their data and neither is the function.
 */
import { describe, expect, it } from 'vitest';
import { matrixFrom, toDense, type Float64View, type GeneralNetwork } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { HELD_OUT_FACTOR, HELD_OUT_POINTS, HELD_OUT_WIDE, heldOutPoints, heldOutSet, identifyAuto, identifyAutoOutputs, type IdentifyProgress } from '@nnid/pipeline';

const truth3 = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 3, activation: 'tanh', seed: 1 });
const box3 = (net: GeneralNetwork) => ({ inputDim: net.inputDim, outputs: net.outputs, identity: 'k3', evaluate: async (x: Float64View) => evaluateGeneral(net, x) });

/** f plus (|x| - 6.5)^3 beyond |x| = 6.5 on every output. */
function bumped(net: GeneralNetwork) {
  const d = net.inputDim;
  const k = net.outputs;
  const evaluate = async (x: Float64View) => {
    const rows = x.shape[0];
    const y = Float64Array.from(toDense(evaluateGeneral(net, x)).data);
    const X = toDense(x).data;
    for (let i = 0; i < rows; i++) {
      let r2 = 0;
      for (let j = 0; j < d; j++) r2 += X[i * d + j] ** 2;
      const over = Math.max(0, Math.sqrt(r2) - 6.5);
      for (let j = 0; j < k; j++) y[i * k + j] += over ** 3;
    }
    return y;
  };
  return { inputDim: d, outputs: k, identity: `bumped-${k}`, evaluate };
}

describe('heldOutSet', () => {
  it('the truth passes, a network 1e-4 off in one weight fails; the set is paid once (3 x points rows) and reused', async () => {
    let rows = 0;
    const box = box3(truth3);
    const source = { inputDim: 8, evaluate: async (x: Float64View) => ((rows += x.shape[0]), box.evaluate(x)) };
    const set = heldOutSet(source, { outputs: 3, seed: 5, points: 40 });
    expect(set.rows).toBe(120);
    const right = await set.judge(truth3, 1e-9);
    expect(right.passed).toBe(true);
    expect(right.rowsPaid).toBe(120);
    expect(right.threshold).toBe(HELD_OUT_FACTOR * 1e-9);
    for (const r of Object.values(right.relativeResidual)) expect(r).toBeLessThanOrEqual(1e-14);
    const W1 = Float64Array.from(toDense(truth3.W1).data);
    W1[0] += 1e-4;
    const off = { ...truth3, W1: matrixFrom(W1, 4, 8) };
    const wrong = await set.judge(off, 1e-9);
    expect(wrong.passed).toBe(false);
    expect(wrong.rowsPaid).toBe(0);
    for (const r of Object.values(wrong.relativeResidual)) expect(r).toBeGreaterThan(1e-8);
    expect(rows).toBe(120);
    expect(set.verdict(off)).toEqual(wrong);
    expect(set.verdict({ ...truth3 })).toBeUndefined();
  });

  it('the points: the unit sphere, N(0, I) and N(0, HELD_OUT_WIDE^2 I), the same for a seed, other for another', () => {
    const sphere = heldOutPoints('sphere', 50, 6, 1);
    for (let i = 0; i < 50; i++) expect(Math.hypot(...sphere.subarray(i * 6, i * 6 + 6))).toBeCloseTo(1, 12);
    const gaussian = heldOutPoints('gaussian', 2000, 6, 1);
    const wide = heldOutPoints('wide', 2000, 6, 1);
    const ms = (a: Float64Array) => a.reduce((s, v) => s + v * v, 0) / a.length;
    expect(ms(gaussian)).toBeGreaterThan(0.9);
    expect(ms(gaussian)).toBeLessThan(1.1);
    expect(ms(wide) / HELD_OUT_WIDE ** 2).toBeGreaterThan(0.9);
    expect(ms(wide) / HELD_OUT_WIDE ** 2).toBeLessThan(1.1);
    expect(heldOutPoints('gaussian', 10, 6, 1)).toEqual(gaussian.subarray(0, 60));
    expect(heldOutPoints('gaussian', 10, 6, 2)).not.toEqual(gaussian.subarray(0, 60));
  });

  it('bad input: an answer of the wrong length, a threshold not positive, points not a positive integer', async () => {
    const short = { inputDim: 8, evaluate: async (x: Float64View) => new Float64Array(x.shape[0] * 2) };
    await expect(heldOutSet(short, { outputs: 3, seed: 1, points: 10 }).judge(truth3, 1e-9)).rejects.toThrow('the held-out check: the black box answered 20 numbers for 10 rows, expected 10 x 3');
    await expect(heldOutSet(box3(truth3), { outputs: 3, seed: 1 }).judge(truth3, 0)).rejects.toThrow('invalid argument. `checkThreshold` must be a finite number > 0. Value: `0`.');
    expect(() => heldOutSet(box3(truth3), { outputs: 3, seed: 1, points: 0 })).toThrow('invalid argument. `points`');
  });
});

describe("method auto's held-out check", () => {
  it('k = 3: the pipeline and the fit pass on their data and fail held out: the run fails, saying so; its rows paid once', async () => {
    const box = bumped(truth3);
    let rows = 0;
    const counted = { ...box, evaluate: (x: Float64View) => ((rows += x.shape[0]), box.evaluate(x)) };
    const notes: string[] = [];
    let stageEnds = 0;
    const onProgress = (e: IdentifyProgress) => {
      if (e.event === 'note' && e.stage === 'method') notes.push(e.message!);
      if (e.event === 'end') stageEnds++;
    };
    const result = await identifyAutoOutputs(counted, { width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, threads: 2, heldOutPoints: HELD_OUT_POINTS, onProgress });
    const [pipeline, ...fits] = result.report.method.tried;
    // the pipeline passed on its data, not held out
    expect(pipeline.relativeResidual!).toBeLessThanOrEqual(result.report.check.threshold);
    expect(pipeline.passed).toBe(false);
    expect(pipeline.heldOut!.passed).toBe(false);
    expect(pipeline.heldOut!.relativeResidual.sphere).toBeLessThanOrEqual(pipeline.heldOut!.threshold);
    expect(pipeline.heldOut!.relativeResidual.wide).toBeGreaterThan(pipeline.heldOut!.threshold);
    expect(pipeline.heldOut!.rowsPaid).toBe(3 * HELD_OUT_POINTS);
    expect(pipeline.queries.paid).toBe(pipeline.heldOut!.rowsPaid + result.pipeline.report.queries.rows);
    // the fit ran after it, and failed held out too where it passed on its data
    expect(fits.length).toBeGreaterThanOrEqual(1);
    for (const f of fits) if (f.heldOut) expect([f.passed, f.heldOut.passed, f.heldOut.rowsPaid]).toEqual([false, false, 0]);
    // progress (k = 3 too): the pipeline's stages, then a note as the continuation starts and as each fit ends, saying so
    expect(stageEnds).toBeGreaterThan(0);
    expect(notes[0]).toMatch(/^the pipeline's check failed \(residual \S+\): the student fit over \d+ \(m1, pair\) candidates on the \d+ answers/);
    for (const f of fits.filter((t) => t.relativeResidual !== null)) {
      const verdict = f.heldOut ? 'passed its check, failed held out' : f.passed ? 'passed' : 'failed';
      expect(notes).toContain(`fit ${f.stage ?? ''} tanh/tanh widths (4, ${f.widths!.width2}): residual ${f.relativeResidual!.toExponential(2)}, ${verdict}`);
    }
    expect(result.report.check.passed).toBe(false);
    expect(result.report.check.heldOut!.passed).toBe(false);
    expect(result.report.warnings.some((w) => w.startsWith('pipeline: passed on its own data') && w.includes('held-out check on 100 fresh points'))).toBe(true);
    expect(result.report.queries.rows).toBe(rows);
  });

  it('k = 1, a width inferred (the default heldOutPoints): the exact pipeline passes held out too, its rows counted; widths given: none', async () => {
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 1, activation: 'tanh', seed: 2 });
    const oracle = createOracle(generalBlackBox(truth));
    const result = await identifyAuto(oracle, { model: 'general', width1: 4, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, threads: 2 });
    const [pipeline] = result.report.method.tried;
    expect(result.report.check.passed).toBe(true);
    expect(result.report.check.heldOut!.passed).toBe(true);
    expect(result.report.check.heldOut!.points).toBe(HELD_OUT_POINTS);
    expect(pipeline.heldOut!.rowsPaid).toBe(3 * HELD_OUT_POINTS);
    expect(pipeline.queries.paid).toBe(result.pipeline!.report.queries.paid + 3 * HELD_OUT_POINTS);
    expect(result.report.queries.paid).toBe(oracle.counts().paid);
    const given = await identifyAuto(createOracle(generalBlackBox(truth)), { model: 'general', width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, threads: 2 });
    expect(given.report.check.heldOut).toBeUndefined();
    expect(given.report.method.tried[0].heldOut).toBeUndefined();
  });

  it('within maxQueries: its rows are kept back from the pipeline; above 10% of the budget it is not run, a warning says so', async () => {
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 1, activation: 'tanh', seed: 2 });
    const small = await identifyAuto(createOracle(generalBlackBox(truth)), { model: 'general', width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, threads: 1, maxQueries: 2000, pipelineAsIdentify: true, heldOutPoints: 100 });
    expect(small.report.check.heldOut).toBeUndefined();
    expect(small.report.warnings).toContain('held-out check not run: its 300 rows (heldOutPoints 100 x 3 distributions) are more than 10% of maxQueries 2000');
    const B = 6000;
    const oracle = createOracle(generalBlackBox(truth), { maxQueries: B });
    const kept = await identifyAuto(oracle, { model: 'general', width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, threads: 1, maxQueries: B, pipelineAsIdentify: true, heldOutPoints: 100 });
    expect(kept.report.check.heldOut!.passed).toBe(true);
    expect(oracle.counts().paid).toBeLessThanOrEqual(B);
    expect(kept.pipeline!.report.queries.paid).toBeLessThanOrEqual(B - 300);
  });

  it('below the pipeline\'s floor with heldOutPoints given: the fit pays the budget but the set\'s rows, never more than maxQueries', async () => {
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 1, activation: 'tanh', seed: 2 });
    const B = 250;
    const oracle = createOracle(generalBlackBox(truth), { maxQueries: B });
    const result = await identifyAuto(oracle, { model: 'general', width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, threads: 1, maxQueries: B, heldOutPoints: 5 });
    const [fit] = result.report.method.tried;
    expect(fit.method).toBe('fit');
    expect(fit.why).toContain("the fit on all of it but the held-out check's 15 rows");
    expect(fit.error).toBeUndefined();
    expect(oracle.counts().paid).toBeLessThanOrEqual(B);
    if (fit.relativeResidual! <= result.report.check.threshold) expect(fit.heldOut!.rowsPaid).toBe(15);
  });
});
