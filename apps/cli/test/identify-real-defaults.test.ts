/**
 * nnid identify on a real exporter's ONNX model as a user runs it (issue 13): no --model, no
 * --activation. The defaults (general model, activation auto) are printed in one line before any
 * query and kept in report.defaults; the result is v2 and scores exact against the model itself
 * (`nnid score --truth model.onnx`). The fixture is PyTorch's export of an 8 -> 4 -> 2 -> 3 tanh
 * nn.Sequential (tools/fixtures/make_real_onnx.py group 'outputs'), k = 3 outputs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNetworkV2 } from '@nnid/core';
import { real, run } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-identify-real-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODEL_LINE = '--model general (an ONNX model, not a v1 network file: f = C phi2(W2 phi1(W1 x + b1) + b2) + c, the result in nnid.network/v2)';
const ACTIVATION_LINE =
  '--activation auto (an ONNX model does not name its activations: tanh/tanh first, then the candidate pairs on the answers already paid, no extra query, up to 5 identify runs of compute; give --activation A/B when known)';
const METHOD_LINE =
  '--method auto (an ONNX model, not a v1 network file: the pipeline as --method pipeline runs it (the second pass of its activation search only after the fit failed), then, only when its check fails, the student fit over the widths and activation pairs it found (every m1 <= m0 when m1 is not established, the best 5 pairs of the activation search, then the 2 best of its other pairs by a screen), on the answers paid (and fresh ones within the budget); --method pipeline for the pipeline alone)';

describe('nnid identify --oracle model.onnx with the defaults (no --model, no --activation)', () => {
  it('a PyTorch export with k = 3 outputs, float64: general and auto by default, said in one line; v2, exact against the model', async () => {
    const model = real('d8-m4-m2-k3-tanh-torch-float64.onnx');
    const out = join(dir, 'k3.json');
    const r = await run(['identify', '--oracle', model, '--width1', '4', '--width2', '2', '--seed', '1', '--threads', '2', '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(`defaults: ${MODEL_LINE}; ${ACTIVATION_LINE}; ${METHOD_LINE}`);
    expect(r.out[1]).toMatch(/^identified m0 = 4, m1 = 2, k = 3 from \d+ queries/);
    expect(r.out).toContainEqual(expect.stringMatching(/^truth-free check: relative residual \S+ \(threshold 1e-9\): passed$/));
    expect(r.out).toContainEqual(expect.stringMatching(/^activation auto: tanh\/tanh \(residuals: (.*, )?tanh\/tanh [0-9.e+-]+(, .*)?\)$/));
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.format).toBe('nnid.network/v2');
    const found = parseNetworkV2(json);
    expect([found.outputs, found.width1, found.width2, found.activation]).toEqual([3, 4, 2, { layer1: 'tanh', layer2: 'tanh' }]);
    expect(json.report.check.passed).toBe(true);
    expect(json.report.activationSource).toBe('default (auto)');
    expect(json.report.defaults.map((c: { option: string; value: string }) => `${c.option} ${c.value}`)).toEqual(['--model general', '--activation auto', '--method auto']);
    // scored against the ONNX model itself (read into v2): exact on both distributions, every output
    const s = await run(['score', '--truth', model, '--recovered', out, '--json', '--points', '2000']);
    expect(s.code).toBe(0);
    const g = JSON.parse(s.out.join('\n'));
    expect(g.function.sphere.relativeL2).toBeLessThan(1e-8);
    expect(g.function.gaussian.relativeL2).toBeLessThan(1e-8);
  }, 400_000); // 12-26 CPU s (the TypeScript tier's probe fails and four candidates run before tanh/tanh); wall under load far more

  it('--held-out N with the widths given: the network that passed its check judged on 3 x N fresh points, said in a line and kept in report.check', async () => {
    const model = real('d8-m4-m2-k3-tanh-torch-float64.onnx');
    const out = join(dir, 'held.json');
    const r = await run(['identify', '--oracle', model, '--activation', 'tanh', '--width1', '4', '--width2', '2', '--held-out', '40', '--seed', '1', '--threads', '2', '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out).toContainEqual(expect.stringMatching(/^truth-free check: relative residual \S+ \(threshold 1e-9\): passed$/));
    expect(r.out).toContainEqual(expect.stringMatching(/^held-out check on 40 fresh points from each of the unit sphere, N\(0, I\) and N\(0, 4 I\): relative residual \S+ \/ \S+ \/ \S+ \(threshold 1\.00e-8, 10 x the check's\): passed$/));
    const json = JSON.parse(readFileSync(out, 'utf8'));
    const held = json.report.check.heldOut;
    expect([json.report.check.passed, held.passed, held.points, held.rowsPaid]).toEqual([true, true, 40, 120]);
    // the identified line and report.queries count the run's rows, the held-out check's among them
    expect(json.report.method.tried[0].queries.paid).toBe(json.report.queries.rows);
    expect(r.out[1]).toContain(`from ${json.report.queries.rows} queries`);
    expect(json.report.queries.numbersReceived).toBe(3 * json.report.queries.rows);
    for (const v of Object.values(held.relativeResidual) as number[]) expect(v).toBeLessThan(1e-8);
  }, 400_000);

  it('--method auto on an ONNX model: the general model by default (v2), here the fit below the floor, exact against the model', async () => {
    const model = real('d10-m8-m4-k1-tanh-sklearn-diabetes-float64.onnx');
    const out = join(dir, 'auto.json');
    const r = await run(['identify', '--oracle', model, '--method', 'auto', '--activation', 'tanh', '--width1', '8', '--width2', '4', '--max-queries', '600', '--seed', '1', '--threads', '2', '--out', out, '--quiet']);
    expect(r.out[0]).toBe(`defaults: ${MODEL_LINE}`);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect([r.code, json.format, json.report.model, json.report.queries.paid <= 600]).toEqual([0, 'nnid.network/v2', 'general', true]);
    const s = await run(['score', '--truth', model, '--recovered', out, '--json', '--points', '2000']);
    const g = JSON.parse(s.out.join('\n'));
    expect(Math.max(g.function.sphere.relativeL2, g.function.gaussian.relativeL2)).toBeLessThan(1e-8);
  }, 200_000);

  it('the defaults that do not fit: --no-refine makes the model paper (said), --method fit needs the activations', async () => {
    const model = real('d10-m8-m4-k1-tanh-sklearn-diabetes-float64.onnx');
    const argv = ['identify', '--oracle', model, '--activation', 'tanh', '--no-refine', '--seed', '1', '--threads', '1', '--out', join(dir, 'plain.json'), '--quiet'];
    const plain = await run([...argv, '--width1', '8', '--width2', '4']);
    expect(plain.out[0]).toBe("defaults: --model paper (--no-refine takes the paper's form only)");
    expect(JSON.parse(readFileSync(join(dir, 'plain.json'), 'utf8')).format).toBe('nnid.network/v1');
    // widths inferred: the line says so; an inferred m1 above m0 is refused in one line naming what to give
    const inferred = await run(argv);
    expect(inferred.out[0]).toBe(
      "defaults: --model paper (--no-refine takes the paper's form only); --width1, --width2 inferred (m0 from the gradients' spectrum; m1 from the entangled weights)",
    );
    if (inferred.code !== 0) {
      expect([inferred.code, inferred.err]).toEqual([2, [expect.stringMatching(/^nnid identify: the second width inferred \(\d+\) is larger than the first \(\d+\): an nnid\.network\/v1 result needs m1 <= m0; give --width2 <= \d+, or --model general; nothing written to /)]]);
    }
    const fit = await run(['identify', '--oracle', model, '--method', 'fit', '--width1', '8', '--width2', '4', '--out', join(dir, 'fit.json')]);
    expect([fit.code, fit.err]).toEqual([
      2,
      ["nnid identify: --activation is required with an ONNX model and --method fit (the default, auto, needs the pipeline's refinement to tell the candidates apart)"],
    ]);
  }, 200_000);
});
