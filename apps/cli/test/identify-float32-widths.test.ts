/**
 * nnid identify on scikit-learn's MLPRegressor (10 -> 8 -> 4 -> 1, tanh) exported in float32, widths
 * not given (issue 13, items 5 and 7): a float32 model's rounding makes the oracle noisy, so range(A)
 * takes its gap from NOISY_RANGE_GAP (m0 = 8, not d = 10), and a second-layer unit whose work the
 * others take up is not reported (m1 = 4, not 5). The function is reached to float32's accuracy:
 * scored against the same model in float64.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { real, run } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-identify-f32-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('float32 MLPRegressor, widths inferred: the truth widths (8, 4), within float32 of the float64 model', async () => {
  const out = join(dir, 'f32.json');
  const r = await run(['identify', '--oracle', real('d10-m8-m4-k1-tanh-sklearn-diabetes.onnx'), '--activation', 'tanh', '--seed', '1', '--threads', '2', '--no-store', '--out', out, '--quiet']);
  expect(r.code).toBe(0);
  expect(r.out).toContainEqual(expect.stringMatching(/^identified m0 = 8, m1 = 4 from \d+ queries/));
  const json = JSON.parse(readFileSync(out, 'utf8'));
  expect(json.layers.map((l: { bias: number[] }) => l.bias.length)).toEqual([8, 4, 1]);
  const s = await run(['score', '--truth', real('d10-m8-m4-k1-tanh-sklearn-diabetes-float64.onnx'), '--recovered', out, '--json']);
  expect(s.code).toBe(0);
  const score = JSON.parse(s.out.join('\n'));
  // float32's accuracy: the float32 model itself is ~1e-7 off the float64 one
  expect(score.function.sphere.relativeL2).toBeLessThan(1e-6);
  expect(score.function.gaussian.relativeL2).toBeLessThan(1e-6);
}, 300_000);
