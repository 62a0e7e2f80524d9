/**
 * ONNX files written by a real exporter (PyTorch's torch.onnx.export, not nnid's), from networks
 * trained by scikit-learn and PyTorch: tools/fixtures/make_real_onnx.py made them and recorded 16
 * inputs with the outputs PyTorch computed. nnid's ONNX black box must answer as PyTorch does.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matrixFrom } from '@nnid/core';
import { onnxBlackBox } from '@nnid/black-box';

const dir = new URL('./fixtures/real/', import.meta.url);
const fixture = (name: string) => ({
  path: new URL(`${name}.onnx`, dir).pathname,
  meta: JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as { inputDim: number; inputs: number[][]; outputs: number[][]; dtype: string },
});

describe('real exporter: a scikit-learn MLPRegressor (10 -> 8 -> 4 -> 1, tanh) exported by PyTorch', () => {
  for (const [name, tolerance] of [
    ['d10-m8-m4-k1-tanh-sklearn-diabetes', 1e-6], // float32 model: inputs and arithmetic rounded to float32
    ['d10-m8-m4-k1-tanh-sklearn-diabetes-float64', 1e-14],
  ] as const) {
    it(`${name}: answers as PyTorch did (relative ${tolerance})`, async () => {
      const { path, meta } = fixture(name);
      const box = await onnxBlackBox(path);
      try {
        expect(box.inputDim).toBe(10);
        expect(box.inputType).toBe(meta.dtype);
        const x = matrixFrom(Float64Array.from(meta.inputs.flat()), meta.inputs.length, meta.inputDim);
        const y = await box.evaluate(x);
        const want = meta.outputs.map((row) => row[0]);
        const scale = Math.max(...want.map(Math.abs));
        for (let i = 0; i < want.length; i++) expect(Math.abs(y[i] - want[i])).toBeLessThanOrEqual(tolerance * scale);
      } finally {
        await box.close();
      }
    });
  }
});

describe('real exporter: a PyTorch digits classifier (64 -> 32 -> 16 -> 10 logits)', () => {
  it("is refused as a one-output black box, naming its 10 outputs in one line", async () => {
    const { path } = fixture('d64-m32-m16-k10-tanh-torch-digits');
    await expect(onnxBlackBox(path)).rejects.toThrow("output 'y' has shape [batch, 10] (float32), expected [n] or [n, 1] (one number per row of the batch)");
  });

  it("with outputs 'many': 10 numbers per row, answered as PyTorch did (float32: relative 1e-6)", async () => {
    const { path, meta } = fixture('d64-m32-m16-k10-tanh-torch-digits');
    const box = await onnxBlackBox(path, { outputs: 'many' });
    try {
      expect(box.outputs).toBe(10);
      const x = matrixFrom(Float64Array.from(meta.inputs.flat()), meta.inputs.length, meta.inputDim);
      const y = await box.evaluateOutputs(x);
      const want = meta.outputs.flat();
      expect(y.length).toBe(want.length);
      const scale = Math.max(...want.map(Math.abs));
      for (let i = 0; i < want.length; i++) expect(Math.abs(y[i] - want[i])).toBeLessThanOrEqual(1e-6 * scale);
      // a query is one row: evaluate (one number per row) refuses in one line
      await expect(box.evaluate(x)).rejects.toThrow('ONNX model d64-m32-m16-k10-tanh-torch-digits.onnx answers 10 numbers per row: evaluate takes one; use evaluateOutputs');
    } finally {
      await box.close();
    }
  });
});

describe('real exporter: three outputs (8 -> 4 -> 2 -> 3, tanh), float64 and float32', () => {
  for (const [name, tolerance] of [
    ['d8-m4-m2-k3-tanh-torch-float64', 1e-14],
    ['d8-m4-m2-k3-tanh-torch', 1e-6],
  ] as const) {
    it(`${name}: evaluateOutputs answers n x 3 as PyTorch did (relative ${tolerance})`, async () => {
      const { path, meta } = fixture(name);
      const box = await onnxBlackBox(path, { outputs: 'many' });
      try {
        expect(box.outputs).toBe(3);
        expect(box.inputType).toBe(meta.dtype);
        const x = matrixFrom(Float64Array.from(meta.inputs.flat()), meta.inputs.length, meta.inputDim);
        const y = await box.evaluateOutputs(x);
        const want = meta.outputs.flat();
        const scale = Math.max(...want.map(Math.abs));
        for (let i = 0; i < want.length; i++) expect(Math.abs(y[i] - want[i])).toBeLessThanOrEqual(tolerance * scale);
      } finally {
        await box.close();
      }
    });
  }

  it("a one-output model opened with outputs 'many' has outputs 1 and answers as evaluate does", async () => {
    const { path, meta } = fixture('d10-m8-m4-k1-tanh-sklearn-diabetes-float64');
    const box = await onnxBlackBox(path, { outputs: 'many' });
    try {
      expect(box.outputs).toBe(1);
      const x = matrixFrom(Float64Array.from(meta.inputs.flat()), meta.inputs.length, meta.inputDim);
      expect(Array.from(await box.evaluateOutputs(x))).toEqual(Array.from(await box.evaluate(x)));
    } finally {
      await box.close();
    }
  });
});
