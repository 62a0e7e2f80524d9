/**
 * ONNX files in the shapes real exports take (test/fixtures/variety, written by
 * tools/fixtures/make_export_variety.py with torch.onnx.export; the full set of 54 models is
 * checked by tools/fixtures/check-export-variety.ts): the per-unit affine ops folded exactly into
 * the layers around them (softplus with beta as Mul, Softplus, Div; an input scaling
 * (x - mean) / std; BatchNorm1d in eval before and after an activation), an [n, 1, d] input
 * squeezed, nn.Flatten and Dropout, Linear without bias at opset 9; and the refusals, one line each.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { matrixFrom, rng, toDense, type GeneralNetwork } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { OnnxImportError, importOnnx, importOnnxBytes, onnxBlackBox, onnxGeneralModelBytes } from '../src/index.ts';
import { gaussianPoints } from './helpers.ts';

const dir = new URL('./fixtures/variety/', import.meta.url);
const path = (name: string) => new URL(`${name}.onnx`, dir).pathname;
interface Meta {
  dtype: string;
  inputDim: number;
  inputs: number[][];
  outputs: number[][];
  expect?: { widths: number[]; outputs: number; activations: string[] };
}
const meta = (name: string) => JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as Meta;

/** max |got - want| / max |want| over PyTorch's recorded answers. */
function relativeError(got: ArrayLike<number>, m: Meta): number {
  const want = m.outputs.flat();
  expect(got.length).toBe(want.length);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return worst / scale;
}

const inputs = (m: Meta) => matrixFrom(Float64Array.from(m.inputs.flat()), m.inputs.length, m.inputDim);

describe('ONNX import of the shapes real exports take: folded exactly', () => {
  const cases = [
    ['opset9-forward-softplus-beta2-atan', 'F.softplus(beta=2) as Mul, Softplus, Div: the scales folded into W1 and W2'],
    ['opset13-input-scaling', '(x - mean) / std before the first Gemm: folded into W1 and b1'],
    ['opset9-input-scaling-float64', 'the same in float64 (Div by std: exact to rounding)'],
    ['opset13-batchnorm', 'BatchNorm1d in eval after both hidden Linears: folded into them'],
    ['opset13-batchnorm-after-activation', 'BatchNorm1d after the first activation: folded into the next Linear'],
    ['opset13-squeezed-input', 'an input [n, 1, d] squeezed to [n, d]'],
    ['opset9-seq-flatten-dropout', 'nn.Flatten on [n, d] and Dropout in eval'],
    ['opset9-seq-tanh-no-bias', 'Linear(bias=False) at opset 9 (MatMul alone)'],
  ] as const;
  for (const [name, what] of cases) {
    it(`${name}: ${what}; the import and the ONNX black box answer as PyTorch did`, async () => {
      const m = meta(name);
      const tolerance = m.dtype === 'float64' ? 1e-13 : 1e-6;
      const { network, dtype } = await importOnnx(path(name));
      const e = m.expect!;
      expect([dtype, network.inputDim, network.width1, network.width2, network.outputs, network.activation.layer1, network.activation.layer2]).toEqual([
        m.dtype,
        m.inputDim,
        ...e.widths,
        e.outputs,
        ...e.activations,
      ]);
      expect(relativeError(evaluateGeneral(network as GeneralNetwork, inputs(m)).data, m)).toBeLessThanOrEqual(tolerance);
      if (name.includes('float64')) return; // onnxruntime has no float64 Erf (this model's GELU): refused in onnx-import.test
      const box = await onnxBlackBox(path(name), { outputs: 'many' });
      try {
        expect(box.inputDim).toBe(m.inputDim);
        expect(relativeError(await box.evaluateOutputs(inputs(m)), m)).toBeLessThanOrEqual(1e-6);
      } finally {
        await box.close();
      }
    });
  }
});

describe('ONNX import refuses, in one line naming what is unsupported', () => {
  const smooth = 'retrain with a smooth activation (softplus is a smooth relu; gelu and silu are smooth too; nnid knows tanh, sigmoid, softplus, gelu, gelu_tanh, silu, arctan)';
  const nonlinear = (op: string, node: string) =>
    `the last layer is followed by ${op} (node '${node}'), a nonlinear function of all k logits together: each output's Hessian then holds products of the logits' gradients, outside the span of a_i a_i^T and v_l v_l^T that nnid identifies from; export the model without it (the logits)`;
  const cases = [
    ['refuse-softmax', nonlinear('Softmax', '/1/Softmax')],
    ['refuse-logsoftmax', nonlinear('LogSoftmax', '/1/LogSoftmax')],
    [
      'refuse-one-hidden',
      "the model has 2 linear layers (1 hidden): nnid takes two hidden layers and a linear output layer (one hidden layer: its Hessians hold the first-layer directions only, and nnid's shift fit and refinement are built for two; not supported yet)",
    ],
    [
      'refuse-elu',
      `the activation after layer 1 is ELU (node '/1/Elu'), which is not twice differentiable at 0: its second derivative jumps there, so the Hessians nnid identifies from are undefined on one hyperplane per unit; ${smooth}`,
    ],
    [
      'refuse-leakyrelu',
      `the activation after layer 2 is LeakyReLU (node '/3/LeakyRelu'), which is piecewise linear: its second derivative is zero almost everywhere and undefined at the kinks, so the Hessians nnid identifies from carry nothing; ${smooth}`,
    ],
  ] as const;
  for (const [name, why] of cases) {
    it(name, async () => {
      const file = path(name);
      const error = await importOnnx(file).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(OnnxImportError);
      expect((error as OnnxImportError).message).toBe(`cannot import ${file}: ${why}`);
      // the graph was read: what it computes is outside what nnid identifies (identify refuses it before any query)
      expect((error as OnnxImportError).unidentifiable).toBe(true);
    });
  }
});

describe('the folds are exact in float64', () => {
  it('input scaling, BatchNormalization before and after an activation, a scaled activation: onnxruntime and the import agree to 1e-14', async () => {
    const { onnx } = onnxProto;
    const net = randomGeneralNetwork({ inputDim: 5, width1: 4, width2: 3, outputs: 2, activation: 'tanh', seed: 5 });
    const model = onnx.ModelProto.decode(onnxGeneralModelBytes(net));
    const graph = model.graph!;
    const r = rng(9);
    const vec = (name: string, n: number, lo: number, hi: number) => {
      const values = Float64Array.from({ length: n }, () => lo + (hi - lo) * r.uniform());
      graph.initializer!.push({ name, dims: [n], dataType: onnx.TensorProto.DataType.DOUBLE, rawData: new Uint8Array(values.buffer) });
    };
    const scalar = (name: string, v: number) => graph.initializer!.push({ name, dims: [], dataType: onnx.TensorProto.DataType.DOUBLE, rawData: new Uint8Array(Float64Array.of(v).buffer) });
    vec('mean', 5, -1, 1);
    vec('std', 5, 0.5, 2);
    for (const [p, n] of [['bn1', 4], ['bn2', 4]] as const) {
      vec(`${p}.gamma`, n, 0.5, 1.5);
      vec(`${p}.beta`, n, -0.3, 0.3);
      vec(`${p}.mean`, n, -0.5, 0.5);
      vec(`${p}.var`, n, 0.5, 2);
    }
    scalar('beta', 2.5);
    const nodes = graph.node!;
    const rename = (from: string, to: string) => {
      for (const n of nodes) n.input = n.input!.map((i) => (i === from ? to : i));
    };
    // x -> (x - mean) / std -> MatMul; u1 -> BN -> Tanh -> h1 -> BN -> MatMul; u2 -> Mul beta -> Tanh -> Div beta -> MatMul
    rename('x', 'xs');
    rename('u1', 'u1n');
    rename('h1', 'h1n');
    rename('u2', 'u2b');
    rename('h2', 'h2b');
    const at = (name: string) => nodes.findIndex((n) => n.output![0] === name);
    nodes.unshift({ opType: 'Sub', input: ['x', 'mean'], output: ['xc'], name: 'sub' }, { opType: 'Div', input: ['xc', 'std'], output: ['xs'], name: 'div' });
    nodes.splice(at('u1') + 1, 0, { opType: 'BatchNormalization', input: ['u1', 'bn1.gamma', 'bn1.beta', 'bn1.mean', 'bn1.var'], output: ['u1n'], name: 'bn1', attribute: [{ name: 'epsilon', f: 1e-5, type: onnx.AttributeProto.AttributeType.FLOAT }] });
    nodes.splice(at('h1') + 1, 0, { opType: 'BatchNormalization', input: ['h1', 'bn2.gamma', 'bn2.beta', 'bn2.mean', 'bn2.var'], output: ['h1n'], name: 'bn2', attribute: [{ name: 'epsilon', f: 1e-5, type: onnx.AttributeProto.AttributeType.FLOAT }] });
    nodes.splice(at('u2') + 1, 0, { opType: 'Mul', input: ['u2', 'beta'], output: ['u2b'], name: 'mul_beta' });
    nodes.splice(at('h2') + 1, 0, { opType: 'Div', input: ['h2', 'beta'], output: ['h2b'], name: 'div_beta' });
    // the Tanh after u2 now reads u2b and writes h2; its Div writes h2b, which C reads
    const bytes = onnx.ModelProto.encode(model).finish();
    const { network } = importOnnxBytes(bytes);
    expect([network.width1, network.width2, network.outputs, network.activation.layer1, network.activation.layer2]).toEqual([4, 3, 2, 'tanh', 'tanh']);
    const X = gaussianPoints(300, 5, 2);
    const ref = evaluateGeneral(network, X).data;
    const worstOff = (got: ArrayLike<number>) => {
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / Math.max(1, Math.abs(got[i])));
      return worst;
    };
    // onnxruntime without graph optimizations computes the graph as written
    const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
    const got = (await session.run({ x: new ort.Tensor('float64', Float64Array.from(toDense(X).data), [300, 5]) })).y.data as Float64Array;
    await session.release();
    expect(worstOff(got)).toBeLessThan(1e-14);
    // the ONNX black box of a float64 model answers the same (onnxruntime's extended fusions answered 2e-8 off)
    const dir = mkdtempSync(join(tmpdir(), 'nnid-variety-'));
    try {
      writeFileSync(join(dir, 'm.onnx'), bytes);
      const box = await onnxBlackBox(join(dir, 'm.onnx'), { outputs: 'many' });
      try {
        expect(worstOff(await box.evaluateOutputs(X))).toBeLessThan(1e-14);
      } finally {
        await box.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a fixed batch axis (exported without dynamic_axes)', () => {
  it('the black box pads every run to the model\'s 16 rows: 40 rows answer as the imported network (float32)', async () => {
    const name = 'opset13-seq-sigmoid-fixed-batch';
    const { network } = await importOnnx(path(name));
    const box = await onnxBlackBox(path(name), { outputs: 'many' });
    try {
      expect([box.batchSize, box.outputs]).toEqual([16, 2]);
      const X = gaussianPoints(40, 5, 3);
      const got = await box.evaluateOutputs(X);
      const ref = evaluateGeneral(network, X).data;
      expect(got.length).toBe(80);
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / Math.max(1, Math.abs(ref[i])));
      expect(worst).toBeLessThan(1e-6);
    } finally {
      await box.close();
    }
  });
});
