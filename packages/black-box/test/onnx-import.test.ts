/**
 * ONNX import (an MLP's weights out of its graph into nnid.network/v2): files written by PyTorch's
 * exporter (test/fixtures/real, made by tools/fixtures/make_real_onnx.py) evaluated by nnid answer
 * as PyTorch did; the refusals are one line each; nnid's own export round-trips exactly; and
 * onnxruntime's float64 quirks (a fused SiLU kernel, no double Erf) are handled or named.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, matrixFrom, serializeNetworkV2, toDense, toGeneral, type GeneralNetwork } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork, randomNetwork } from '@nnid/oracle';
import { exportOnnx, importOnnx, importOnnxBytes, onnxBlackBox, onnxGeneralModelBytes, onnxModelBytes } from '../src/index.ts';
import { gaussianPoints } from './helpers.ts';

const { onnx } = onnxProto;
const dir = new URL('./fixtures/real/', import.meta.url);
const path = (name: string) => new URL(name, dir).pathname;
const meta = (name: string) =>
  JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as { inputDim: number; inputs: number[][]; outputs: number[][]; dtype: string; activations: string[] };

/** max |F - want| / max |want| over the recorded inputs. */
function relativeError(net: GeneralNetwork, m: ReturnType<typeof meta>): number {
  const X = matrixFrom(Float64Array.from(m.inputs.flat()), m.inputs.length, m.inputDim);
  const F = evaluateGeneral(net, X);
  const want = m.outputs.flat();
  expect(F.data.length).toBe(want.length);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(F.data[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return worst / scale;
}

describe('ONNX import of models written by PyTorch\'s exporter', () => {
  const models = [
    ['d10-m8-m4-k1-tanh-sklearn-diabetes', [8, 4], 1],
    ['d64-m32-m16-k10-tanh-torch-digits', [32, 16], 10],
    ['d5-m4-m3-k2-gelu-silu-torch', [4, 3], 2],
    ['d5-m4-m3-k1-gelu_tanh-softplus-torch', [4, 3], 1],
    ['d5-m4-m3-k1-sigmoid-arctan-torch', [4, 3], 1],
    ['d5-m4-m3-k1-silu-gelu_tanh-torch', [4, 3], 1],
  ] as const;
  for (const [name, widths, k] of models) {
    for (const suffix of name.includes('digits') ? [''] : ['', '-float64']) {
      const file = `${name}${suffix}`;
      const tolerance = suffix ? 1e-13 : 1e-6;
      it(`${file}: the imported network answers as PyTorch did (relative ${tolerance})`, async () => {
        const m = meta(file);
        const { network, dtype } = await importOnnx(path(`${file}.onnx`));
        expect([dtype, network.inputDim, network.width1, network.width2, network.outputs]).toEqual([m.dtype, m.inputDim, ...widths, k]);
        expect([network.activation.layer1, network.activation.layer2]).toEqual(m.activations);
        expect(relativeError(network, m)).toBeLessThanOrEqual(tolerance);
      });
    }
  }
});

describe('ONNX import refuses what nnid cannot identify, in one line', () => {
  const cases = [
    ['refuse-relu', "the activation after layer 1 is ReLU (node '/1/Relu'), which is piecewise linear: its second derivative is zero almost everywhere and undefined at the kinks, so the Hessians nnid identifies from carry nothing; retrain with a smooth activation (softplus is a smooth relu; gelu and silu are smooth too; nnid knows tanh, sigmoid, softplus, gelu, gelu_tanh, silu, arctan)"],
    ['refuse-three-hidden', 'the model has 4 linear layers (3 hidden): nnid takes two hidden layers and a linear output layer'],
    ['refuse-conv1d', "a convolution (Conv node '/conv/Conv'): nnid reads multilayer perceptrons (Gemm, or MatMul + Add, and elementwise activations)"],
    ['refuse-rank3', "input 'x' has rank 3 ([batch, 2, 4]): nnid reads models whose input is a batch of vectors, [n, d]"],
  ] as const;
  for (const [name, why] of cases) {
    it(name, async () => {
      const file = path(`${name}.onnx`);
      await expect(importOnnx(file)).rejects.toThrow(`cannot import ${file}: ${why}`);
    });
  }

  it('an activation after the output layer, and bytes that are not a model', () => {
    const net = randomGeneralNetwork({ inputDim: 3, width1: 2, width2: 2, seed: 1 });
    const model = onnx.ModelProto.decode(onnxGeneralModelBytes(net));
    const graph = model.graph!;
    graph.node![graph.node!.length - 1].output = ['logits'];
    graph.node!.push({ opType: 'Sigmoid', input: ['logits'], output: ['y'], name: 'final_sigmoid' });
    const bytes = onnx.ModelProto.encode(model).finish();
    expect(() => importOnnxBytes(bytes, 'm.onnx')).toThrow(
      "cannot import m.onnx: the last layer is followed by Sigmoid (node 'final_sigmoid'): nnid's last layer is linear; export the model without its final activation (the logits)",
    );
    expect(() => importOnnxBytes(Buffer.from('{"format": "nnid.network/v2"}'), 'm.onnx')).toThrow(/^cannot read m\.onnx: not an ONNX model \(.+\)$/);
  });
});

describe('ONNX export of nnid.network/v2', () => {
  for (const name of ACTIVATIONS) {
    it(`${name}: v2 -> ONNX -> import -> v2 is exact in float64`, () => {
      const net = randomGeneralNetwork({ inputDim: 6, width1: 5, width2: 3, outputs: 3, activation: { layer1: name, layer2: name === 'tanh' ? 'gelu' : 'tanh' }, seed: 7 });
      const { network, dtype } = importOnnxBytes(onnxGeneralModelBytes(net));
      expect(dtype).toBe('float64');
      expect(serializeNetworkV2(network)).toEqual(serializeNetworkV2(net));
    });
  }

  it('Identity nodes on the chain (as tf2onnx writes around its graphs) are passed through', () => {
    const net = randomGeneralNetwork({ inputDim: 4, width1: 3, width2: 2, outputs: 2, activation: 'sigmoid', seed: 4 });
    const model = onnx.ModelProto.decode(onnxGeneralModelBytes(net));
    const graph = model.graph!;
    for (const n of graph.node!) n.input = n.input!.map((i) => (i === 'x' ? 'x_in' : i));
    graph.node![graph.node!.length - 1].output = ['y_out'];
    graph.node!.unshift({ opType: 'Identity', input: ['x'], output: ['x_in'], name: 'in' });
    graph.node!.push({ opType: 'Identity', input: ['y_out'], output: ['y'], name: 'out' });
    expect(serializeNetworkV2(importOnnxBytes(onnx.ModelProto.encode(model).finish()).network)).toEqual(serializeNetworkV2(net));
  });

  it('a v1 export (ReduceSum output) imports as toGeneral of the v1 network, exactly', () => {
    const v1 = randomNetwork({ inputDim: 7, width1: 4, width2: 3, activation: 'softplus', seed: 2 });
    expect(serializeNetworkV2(importOnnxBytes(onnxModelBytes(v1)).network)).toEqual(serializeNetworkV2(toGeneral(v1)));
  });

  it('float32 on request: onnxruntime answers as nnid to float32 rounding, and the import gives the float32-rounded weights', async () => {
    const net = randomGeneralNetwork({ inputDim: 6, width1: 5, width2: 4, outputs: 3, activation: { layer1: 'gelu', layer2: 'silu' }, seed: 3 });
    const bytes = onnxGeneralModelBytes(net, { float32: true });
    const imported = importOnnxBytes(bytes);
    expect(imported.dtype).toBe('float32');
    expect(Array.from(toDense(imported.network.W1).data)).toEqual(Array.from(Float32Array.from(toDense(net.W1).data)));
    const session = await ort.InferenceSession.create(bytes);
    const X = gaussianPoints(200, 6, 1);
    const x = Float32Array.from(toDense(X).data);
    const got = (await session.run({ x: new ort.Tensor('float32', x, [200, 6]) })).y;
    expect(got.dims).toEqual([200, 3]);
    const ref = evaluateGeneral(net, matrixFrom(Float64Array.from(x), 200, 6)).data;
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs((got.data as Float32Array)[i] - ref[i]) / Math.max(1, Math.abs(ref[i])));
    expect(worst).toBeLessThan(1e-5);
    await session.release();
  });
});

describe('onnxruntime quirks on float64 models', () => {
  it('SiLU and tanh-form GELU in float64 (fused into a float-only QuickGelu by default): loaded with basic optimizations, answers as PyTorch did', async () => {
    const file = 'd5-m4-m3-k1-silu-gelu_tanh-torch-float64';
    const m = meta(file);
    const box = await onnxBlackBox(path(`${file}.onnx`));
    try {
      expect(box.inputType).toBe('float64');
      const y = await box.evaluate(matrixFrom(Float64Array.from(m.inputs.flat()), 16, 5));
      for (let i = 0; i < 16; i++) expect(Math.abs(y[i] - m.outputs[i][0])).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(m.outputs[i][0])));
    } finally {
      await box.close();
    }
  });

  it('nnid\'s own float64 export with SiLU and tanh-form GELU: the black box answers as evaluateGeneral on 500 points (1e-14)', async () => {
    const net = randomGeneralNetwork({ inputDim: 6, width1: 5, width2: 4, activation: { layer1: 'silu', layer2: 'gelu_tanh' }, seed: 8 });
    const file = join(mkdtempSync(join(tmpdir(), 'nnid-onnx-')), 'silu.onnx');
    await exportOnnx(net, file);
    const box = await onnxBlackBox(file);
    try {
      const X = gaussianPoints(500, 6, 3);
      const got = await box.evaluate(X);
      const ref = evaluateGeneral(net, X).data;
      let worst = 0;
      for (let i = 0; i < 500; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / Math.max(1, Math.abs(ref[i])));
      expect(worst).toBeLessThan(1e-14);
    } finally {
      await box.close();
      rmSync(dirname(file), { recursive: true, force: true });
    }
  });

  it('a float64 model with an operator onnxruntime cannot run in float64 is refused in one line naming it', async () => {
    for (const [file, op, node] of [['d5-m4-m3-k1-sigmoid-arctan-torch-float64', 'Atan', '/3/Atan'], ['d5-m4-m3-k1-gelu_tanh-softplus-torch-float64', 'Softplus', '/3/Softplus'], ['d5-m4-m3-k2-gelu-silu-torch-float64', 'Erf', '/1/Erf']]) {
      const p = path(`${file}.onnx`);
      await expect(onnxBlackBox(p)).rejects.toThrow(
        `cannot run ${p}: onnxruntime has no kernel for ${op} (node '${node}') in the model's element type (float64 has none for Erf, Atan, Softplus); run it in float32 (nnid convert --in ${p} --out model32.onnx --float32) or evaluate its weights in nnid (nnid convert --in ${p} --out net.json)`,
      );
    }
  });
});
