/**
 * identifyOutputs with widths inferred (issue 13 items 3 and 5): the k-output fit must not report
 * units with no contribution (a PyTorch k = 3 export came out m1 = 4 for 2: duplicate units whose
 * C columns were ~1e-16 after the k-output fit, the projection's pruning having run before it),
 * and m1 <= m0 in the general form.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNetworkV2, type Float64View } from '@nnid/core';
import { evaluateGeneral } from '@nnid/oracle';
import { identifyOutputs, scoreGeneral } from '@nnid/pipeline';

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
