/**
 * identifyOutputs with widths inferred (issue 13 items 3 and 5): the k-output fit must not report
 * units with no contribution (a PyTorch k = 3 export came out m1 = 4 for 2: duplicate units whose
 * C columns were ~1e-16 after the k-output fit, the projection's pruning having run before it),
 * and m1 <= m0 in the general form.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matrix, parseNetworkV2, rng, toDense, type Float64View, type GeneralNetwork } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { identifyOutputs, scoreGeneral } from '@nnid/pipeline';
import { capSecondLayer, pruneInferredWidths } from '../src/prune.ts';

// the weights of packages/black-box/test/fixtures/real/d8-m4-m2-k3-tanh-torch-float64.onnx (untrained
// torch.nn.Sequential, exported by torch.onnx.export), converted by `nnid convert` to v2
const truth = parseNetworkV2(JSON.parse(readFileSync(new URL('./fixtures/d8-m4-m2-k3-tanh-torch.json', import.meta.url), 'utf8')));
const box = { inputDim: 8, outputs: 3, identity: 'd8-m4-m2-k3-tanh-torch', evaluate: async (x: Float64View) => evaluateGeneral(truth, x) };

describe('identifyOutputs, k = 3, widths inferred', () => {
  // seed 3 (native tier): identify on the projection returns m1 = 3, the k-output fit leaves one unit with no contribution
  it('the PyTorch (8, 4, 2) k = 3 network, activation auto: the truth\'s widths (4, 2), no dead or duplicate unit, exact', async () => {
    const { network, report } = await identifyOutputs(box, { activation: 'auto', seed: 3, threads: 2 });
    expect(report.check.passed).toBe(true);
    expect([network.width1, network.width2]).toEqual([4, 2]);
    expect(scoreGeneral(truth, network).function.gaussian.relativeL2).toBeLessThan(1e-8);
    expect(scoreGeneral(truth, network).function.sphere.relativeL2).toBeLessThan(1e-8);
    expect(report.parameterCount).toBe(55);
    // the widths reported are the network's: every unit removed was refitted away and the check passed after it
    expect(report.pruning!.widthsAfter).toEqual([network.width1, network.width2]);
  }, 120_000);
});

describe('m1 <= m0 in the general form', () => {
  it('a width2 given above the m0 inferred is refused with one line, before the Hessians', async () => {
    await expect(identifyOutputs(box, { width2: 5, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, threads: 1 })).rejects.toThrow(
      'invalid argument. `width2` must be at most m0 = 4 (m1 <= m0; m0 inferred from range(A): give width1, or a smaller width2). Value: `5`.',
    );
  });

  it('an inferred m1 above m0 is capped at m0: the least contributing second-layer units removed, refitted; the check and widths are the capped network\'s', async () => {
    // truth (8, 4, 2) k = 3 with three more second-layer units whose C columns are small (1e-3): m1 = 5 > m0 = 4
    const base = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 3, activation: 'tanh', seed: 2, directions: 'orthonormal' });
    const { inputDim: d, width1: m0, width2: m1, outputs: k } = base;
    const extra = 3;
    const W2 = matrix(m1 + extra, m0);
    W2.data.set(toDense(base.W2).data);
    rng(11).fillNormal(W2.data.subarray(m1 * m0));
    const C = matrix(k, m1 + extra);
    const oldC = toDense(base.C).data;
    const small = new Float64Array(k * extra);
    rng(12).fillNormal(small);
    for (let o = 0; o < k; o++) {
      for (let l = 0; l < m1; l++) C.data[o * (m1 + extra) + l] = oldC[o * m1 + l];
      for (let e = 0; e < extra; e++) C.data[o * (m1 + extra) + m1 + e] = 1e-3 * (e + 1) * small[o * extra + e];
    }
    const wide: GeneralNetwork = { ...base, width2: m1 + extra, W2, b2: Float64Array.from([...base.b2, 0.1, -0.2, 0.3]), C };
    const inputs = matrix(600, d);
    rng(13).fillNormal(inputs.data);
    const values = toDense(evaluateGeneral(wide, inputs)).data;
    const capped = await capSecondLayer(wide, { inputs, values }, m0, 100);
    expect(capped.network.width2).toBe(m0);
    expect(capped.removed).toHaveLength(1);
    // the unit removed is one of the three small ones
    expect(capped.removed[0]).toBeGreaterThanOrEqual(m1);
    expect(capped.relativeResidual).toBeLessThan(1e-2);
    // through identify's last step (model 'general', m1 inferred): the network, widths and check follow the cap
    const fake = {
      networkGeneral: wide,
      refinementData: { inputs, values },
      report: {
        widths: { width1: m0, width1Source: 'given', width2: m1 + extra, width2Source: 'entangled weights found' },
        spectrum: { gradients: null, hessians: [] },
        attempts: [{ prunedUnits: 0 }],
        chosenAttempt: 0,
        check: { relativeResidual: 1e-16, threshold: 1e-9, passed: true },
        warnings: [] as string[],
      },
    };
    const out = await pruneInferredWidths(fake, { model: 'general', width1: m0, refineMaxIterations: 100 });
    expect(out.networkGeneral!.width2).toBeLessThanOrEqual(m0);
    expect(out.report.widths.width2).toBe(out.networkGeneral!.width2);
    expect(out.report.check.relativeResidual).toBeLessThan(1e-2);
    expect(out.report.warnings.some((w) => w.startsWith(`m1 inferred `) && w.includes(`> m0 = ${m0}`))).toBe(true);
    // report.widths says what the evidence tells: units removed below the check's reach, or m1 not established
    const established = (out.report.widths as { evidence?: { established: { width2: boolean; why: string } } }).evidence!.established;
    if (out.report.check.passed) expect(established.why).toContain(`second-layer unit(s) of the network found (m1 = ${m1 + extra}) removed: what they add is below what the check can tell`);
    else expect(established.width2).toBe(false);
  });
});
