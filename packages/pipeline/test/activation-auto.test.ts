/**
 * identify with activation 'auto' (model 'general'): the activations are found by trying the
 * candidate pairs on the answers already paid. Exact = relative L2 <= 1e-8 on 10^4 Gaussian points
 * and the truth-free check passed; the pair found is the true one (or, for sigmoid, tanh: the same
 * functions in the general form).
 */
import { describe, expect, it } from 'vitest';
import { matrix, rng, type ActivationName, type GeneralNetwork } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { candidatePairs, identify } from '@nnid/pipeline';
import { FULL_FITS, SECOND_PASS_PAIRS, type AutoIdentifyOptions } from '../src/activation-auto.ts';
import { SECOND_PASS_FROM } from '../src/second-pass.ts';

function relativeL2(truth: GeneralNetwork, other: GeneralNetwork): number {
  const X = matrix(10_000, truth.inputDim);
  rng(123).fillNormal(X.data);
  const a = evaluateGeneral(truth, X).data;
  const b = evaluateGeneral(other, X).data;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += a[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** identify with activation 'auto' on a (6, 4, 2) tanh network with one refinement step (no pair comes near), `extra` added; its progress notes. */
async function oneStepSearch(extra: Partial<AutoIdentifyOptions>) {
  const truth = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, directions: 'orthonormal' });
  const notes: string[] = [];
  const { report } = await identify(createOracle(generalBlackBox(truth)), {
    width1: 4,
    width2: 2,
    activation: 'auto',
    seed: 1,
    threads: 1,
    model: 'general',
    refineMaxIterations: 1,
    upperFitIterations: 1,
    ...extra,
    onProgress: (e) => {
      if (e.event === 'note') notes.push(`${e.stage}: ${e.message}`);
    },
  });
  return { report, notes };
}

const CASES: { layer1: ActivationName; layer2: ActivationName; seed: number }[] = [
  { layer1: 'tanh', layer2: 'tanh', seed: 2 },
  // the probe (tanh/tanh) fails; tanh/gelu_tanh screens first (gelu_tanh is within ~3e-5 of gelu), fails, and gelu refitted from it passes
  { layer1: 'tanh', layer2: 'gelu', seed: 2 },
];

describe("identify, activation 'auto', model 'general', (10, 6, 3)", () => {
  for (const { layer1, layer2, seed } of CASES) {
    it(`${layer1}/${layer2}: the pair is found and the network is exact`, async () => {
      const truth = randomGeneralNetwork({ inputDim: 10, width1: 6, width2: 3, activation: { layer1, layer2 }, seed, directions: 'orthonormal' });
      const oracle = createOracle(generalBlackBox(truth));
      const { networkGeneral, report } = await identify(oracle, { width1: 6, width2: 3, activation: 'auto', seed: 1, threads: 2, model: 'general' });
      expect(report.check.passed).toBe(true);
      expect(report.activationSearch?.chosen).toEqual({ layer1, layer2 });
      expect(networkGeneral?.activation).toEqual({ layer1, layer2 });
      expect(relativeL2(truth, networkGeneral!)).toBeLessThan(1e-8);
      // the chosen candidate passed
      const search = report.activationSearch!;
      const chosen = search.candidates.find((c) => c.layer1 === layer1 && c.layer2 === layer2)!;
      expect(chosen.passed).toBe(true);
      expect(chosen.relativeResidual).toBeLessThanOrEqual(search.threshold);
      // a row is paid once, whatever the number of candidates run
      expect(search.queries.paid).toBe(oracle.counts().paid);
      expect(search.queries.paid).toBeLessThanOrEqual(search.queries.answered);
      // a pair passed: no second pass
      expect(search.secondPass).toEqual([]);
    });
  }

  it('says when no pair passes, with every residual tried', async () => {
    const { report, notes } = await oneStepSearch({ retryFactors: [] });
    expect(report.check.passed).toBe(false);
    const search = report.activationSearch!;
    expect(search.chosen).toBeNull();
    // the probe's pair (the probe is its short run) and FULL_FITS short runs; no long run with no retry factors;
    // besides them only the pairs the second pass ran (closest by run or refit: a pair with refits alone may be one)
    const tried = search.candidates.filter((c) => c.relativeResidual !== null);
    const passed2 = search.secondPass.filter((row) => row.residual !== null);
    expect(tried.length).toBeGreaterThanOrEqual(FULL_FITS + 1);
    expect(tried.length).toBeLessThanOrEqual(FULL_FITS + 1 + passed2.length);
    for (const row of passed2) expect(tried.some((c) => c.layer1 === row.layer1 && c.layer2 === row.layer2)).toBe(true);
    expect(tried.some((c) => c.layer1 === 'tanh' && c.layer2 === 'tanh')).toBe(true);
    expect(Object.keys(search.cpuSeconds).sort()).toEqual(['longRuns', 'probe', 'refits', 'screen', 'secondPass', 'shortRuns']);
    // the second pass: for the closest pairs only, and not from a residual above SECOND_PASS_FROM
    expect(search.secondPass.length).toBeLessThanOrEqual(SECOND_PASS_PAIRS);
    for (const row of search.secondPass) {
      expect(row.passed).toBe(false);
      if (row.from > SECOND_PASS_FROM) expect(row.residual).toBeNull();
      if (row.residual === null) expect(row.note).not.toBe('');
    }
    // a pair's refits (from other runs' networks) are kept apart from its runs' residual
    for (const c of search.candidates) if (c.refitResidual !== undefined) expect(c.refitResidual).toBeGreaterThan(search.threshold);
    expect(search.cpuSeconds.longRuns).toBe(0);
    expect(tried.every((c) => c.passed === false && c.relativeResidual! > search.threshold)).toBe(true);
    const warning = report.warnings.find((w) => w.startsWith("activation 'auto': no candidate pair passed the truth-free check"));
    expect(warning).toBeDefined();
    for (const c of tried) expect(warning).toContain(`${c.layer1}/${c.layer2} ${c.relativeResidual!.toExponential(2)}`);
    // progress: a note as the probe, the screen and each run end
    expect(notes[0]).toMatch(/^activation: probe tanh\/tanh: residual \S+, failed \(threshold \S+\)$/);
    expect(notes[1]).toMatch(/^activation: screen of 36 pairs on the probe's answers: \w+\/\w+ \S+, \w+\/\w+ \S+, \w+\/\w+ \S+, \.\.\.$/);
    const shortRuns = notes.filter((n) => / \(short run\): /.test(n));
    expect(shortRuns.length).toBeGreaterThanOrEqual(1);
    expect(shortRuns.length).toBeLessThanOrEqual(FULL_FITS);
    for (const n of shortRuns) expect(n).toMatch(/^activation: \w+\/\w+ \(short run\): (residual \S+, failed \(threshold \S+\)|every attempt failed numerically)$/);
    // the screen gave every candidate pair a residual (Infinity: its fit failed numerically)
    expect(search.candidates.length).toBe(36);
    expect(search.candidates.every((c) => typeof c.screenResidual === 'number' && c.screenResidual > 0)).toBe(true);
  });

  it('secondPassPairs 0: no pass inside the search; secondPassLater runs it for the closest pairs after, no closer than before', async () => {
    const truth = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, directions: 'orthonormal' });
    const oracle = createOracle(generalBlackBox(truth));
    const result = await identify(oracle, { width1: 4, width2: 2, activation: 'auto', seed: 1, threads: 1, model: 'general', refineMaxIterations: 1, upperFitIterations: 1, retryFactors: [], secondPassPairs: 0 });
    const search = result.report.activationSearch!;
    expect(search.chosen).toBeNull();
    expect(search.secondPass).toEqual([]);
    expect(search.cpuSeconds.secondPass).toBe(0);
    const paid = oracle.counts().paid;
    const later = await result.secondPassLater!();
    const after = later.report.activationSearch!;
    expect(after.secondPass.length).toBeGreaterThanOrEqual(1);
    expect(after.secondPass.length).toBeLessThanOrEqual(SECOND_PASS_PAIRS);
    for (const row of after.secondPass) if (row.residual === null) expect(row.note).not.toBe('');
    expect(later.report.check.relativeResidual!).toBeLessThanOrEqual(result.report.check.relativeResidual!);
    // the pass's queries are counted in the search's and paid once
    expect(after.queries.paid).toBe(oracle.counts().paid);
    expect(after.queries.paid - search.queries.paid).toBe(oracle.counts().paid - paid);
    expect(after.queries.paid - search.queries.paid).toBe(after.secondPass.reduce((t, r) => t + r.queries, 0));
    // the report returned before the pass is not changed by it; a second call pays nothing
    expect(search.secondPass).toEqual([]);
    const paidAfter = oracle.counts().paid;
    await result.secondPassLater!();
    expect(oracle.counts().paid).toBe(paidAfter);
  });

  it('longRunFrom: no long run for a pair farther than it; the report and a warning say which pair was closest and how far', async () => {
    // identify's retries are on (long runs would follow)
    const { report, notes } = await oneStepSearch({ secondPassPairs: 0, longRunFrom: 1e-6 });
    const search = report.activationSearch!;
    expect(search.chosen).toBeNull();
    expect(search.skipped).toHaveLength(1);
    const m = /^long runs: 3 of 3 not run: the closest pair left, (\w+)\/(\w+), came to (\S+), above longRunFrom 0\.000001 \(identify's retries from that far have not reached the check\)$/.exec(search.skipped![0]);
    expect(m).not.toBeNull();
    // the pair named is the closest by its runs and the refits into it, at the residual said
    const closest = (c: (typeof search.candidates)[number]) => Math.min(c.relativeResidual ?? Infinity, c.refitResidual ?? Infinity);
    const best = Math.min(...search.candidates.map(closest));
    expect(m![3]).toBe(best.toExponential(2));
    expect(closest(search.candidates.find((c) => c.layer1 === m![1] && c.layer2 === m![2])!)).toBe(best);
    expect(best).toBeGreaterThan(1e-6);
    expect(search.cpuSeconds.longRuns).toBe(0);
    // only the probe and the short runs ran
    expect(search.candidates.filter((c) => c.relativeResidual !== null).length).toBeLessThanOrEqual(FULL_FITS + 1);
    expect(report.warnings).toContain(`activation 'auto': ${search.skipped![0]}`);
    expect(notes.filter((n) => n.startsWith('activation: long runs: 3 of 3 not run (the closest pair left, '))).toHaveLength(1);
  });

  it('candidate pairs: 49 in the paper form, 36 in the general form (sigmoid is tanh there)', () => {
    expect(candidatePairs('paper').pairs.length).toBe(49);
    const general = candidatePairs('general');
    expect(general.pairs.length).toBe(36);
    expect(general.pairs.some((p) => p.layer1 === 'sigmoid' || p.layer2 === 'sigmoid')).toBe(false);
    expect(general.equivalent[0]).toContain('sigmoid(t) = (1 + tanh(t / 2)) / 2');
  });

  it("refuses refine false with activation 'auto', and a negative secondPassPairs, in the house template", async () => {
    const truth = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, seed: 1 });
    await expect(identify(createOracle(generalBlackBox(truth)), { activation: 'auto', seed: 1, refine: false })).rejects.toThrow(
      "invalid argument. `refine` must be true with activation 'auto'. Value: `false`.",
    );
    await expect(identify(createOracle(generalBlackBox(truth)), { activation: 'auto', seed: 1, secondPassPairs: -1 })).rejects.toThrow('invalid argument. `secondPassPairs` must be a nonnegative integer. Value: `-1`.');
    await expect(identify(createOracle(generalBlackBox(truth)), { activation: 'auto', seed: 1, longRunFrom: 0 })).rejects.toThrow('invalid argument. `longRunFrom` must be a number > 0 (Infinity: no bound). Value: `0`.');
  });
});
