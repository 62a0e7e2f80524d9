import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { NnidError, transposeView, toDense, type Float64View } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { exportOnnx, onnxBlackBox, onnxModelBytes } from '../src/index.ts';
import { gaussianPoints } from './helpers.ts';

const { onnx } = onnxProto;
const dir = mkdtempSync(join(tmpdir(), 'nnid-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A model y = Log(ReduceSum(x, axis 1)): NaN where a row sums below 0 (a black box that
 * misbehaves). `d` may be symbolic; elemType 11 is DOUBLE, 1 is FLOAT.
 */
function logSumModel(d: number | string, elemType = 11): Uint8Array {
  const tensor = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((v) => (typeof v === 'number' ? { dimValue: v } : { dimParam: v })) } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'log_sum',
      initializer: [{ name: 'axes', dims: [1], dataType: 7, rawData: new Uint8Array(BigInt64Array.of(1n).buffer) }],
      node: [
        { opType: 'ReduceSum', input: ['x', 'axes'], output: ['s'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
        { opType: 'Log', input: ['s'], output: ['y'] },
      ],
      input: [tensor('x', ['n', d])],
      output: [tensor('y', ['n'])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

async function expectNnidError(promise: Promise<unknown>, code: string, message: string | RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NnidError);
  expect((error as NnidError).code).toBe(code);
  if (typeof message === 'string') expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
}

describe('exportOnnx + onnxBlackBox', () => {
  for (const activation of ['tanh', 'sigmoid', { layer1: 'sigmoid', layer2: 'tanh' }] as const) {
    const label = typeof activation === 'string' ? activation : `${activation.layer1}/${activation.layer2}`;
    it(`answers as the in-process network to float64 rounding (${label}, d = 20, m0 = 10, m1 = 5)`, async () => {
      const net = randomNetwork({ inputDim: 20, width1: 10, width2: 5, activation, seed: 7 });
      const path = join(dir, `net-${label.replace('/', '-')}.onnx`);
      await exportOnnx(net, path);
      const box = await onnxBlackBox(path);
      expect(box.inputDim).toBe(20);
      expect(box.inputType).toBe('float64');
      const X = gaussianPoints(2000, 20, 1);
      const ref = evaluateNetwork(net, X);
      const got = await box.evaluate(X);
      let maxAbs = 0;
      for (let i = 0; i < ref.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got[i] - ref[i]));
      // GEMM sums in another order than the dot products of evaluateNetwork: a few ulp of |f| <= m1.
      expect(maxAbs).toBeLessThan(5 * 2 ** -52 * 5);
      await box.close();
    });
  }

  it('takes strided views, splits batches, reports each sub-batch, and identifies the model by its bytes', async () => {
    const net = randomNetwork({ inputDim: 6, width1: 4, width2: 2, activation: 'tanh', seed: 2 });
    const path = join(dir, 'small.onnx');
    await exportOnnx(net, path);
    const seen: number[] = [];
    const box = await onnxBlackBox(path, { batchSize: 7, onBatch: (inputs, values) => void seen.push(inputs.shape[0], values.length) });
    const columnMajor = transposeView(toDense(transposeView(gaussianPoints(20, 6, 3))) as Float64View);
    const dense = toDense(columnMajor);
    expect(columnMajor.strides).toEqual([1, 20]);
    const a = await box.evaluate(columnMajor);
    expect(seen).toEqual([7, 7, 7, 7, 6, 6]);
    const b = await box.evaluate(dense);
    expect(Array.from(a)).toEqual(Array.from(b));
    const one = await box.evaluate({ data: dense.data, offset: 6, shape: [6], strides: [1] });
    expect(one[0]).toBe(a[1]);
    expect(box.identity).toBe(`onnx:sha256:${createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 32)}`);
    writeFileSync(join(dir, 'copy.onnx'), readFileSync(path));
    const copy = await onnxBlackBox(join(dir, 'copy.onnx'));
    expect(copy.identity).toBe(box.identity);
    await Promise.all([box.close(), copy.close()]);
  });

  it('writes the weights bit for bit into the model (float64 initializers)', () => {
    const net = randomNetwork({ inputDim: 5, width1: 3, width2: 2, activation: 'tanh', seed: 4 });
    const model = onnx.ModelProto.decode(onnxModelBytes(net));
    const byName = new Map(model.graph!.initializer!.map((t) => [t.name, t]));
    const AT = byName.get('A_T')!;
    expect(AT.dims!.map(Number)).toEqual([5, 3]);
    expect(AT.dataType).toBe(onnx.TensorProto.DataType.DOUBLE);
    const values = new Float64Array(new Uint8Array(AT.rawData!).buffer);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) expect(values[j * 3 + i]).toBe(net.A.data[i * 5 + j]);
    expect(Array.from(new Float64Array(new Uint8Array(byName.get('tau')!.rawData!).buffer))).toEqual(Array.from(net.tau));
  });
});

describe('bad input to the ONNX adapter', () => {
  it('E_FILE_READ for a missing file, a directory, and a file that is not a model', async () => {
    await expectNnidError(onnxBlackBox(join(dir, 'nope.onnx')), 'E_FILE_READ', `cannot read ${join(dir, 'nope.onnx')}: no such file`);
    await expectNnidError(onnxBlackBox(dir), 'E_FILE_READ', `cannot read ${dir}: it is a directory`);
    const junk = join(dir, 'junk.onnx');
    writeFileSync(junk, 'this is not protobuf');
    await expectNnidError(onnxBlackBox(junk), 'E_FILE_READ', new RegExp(`^cannot read ${junk}: not a model onnxruntime can load \\(.+\\)$`));
  });

  it('E_DIMENSION_MISMATCH when the model takes another dimension than requested, or a batch has another', async () => {
    const net = randomNetwork({ inputDim: 8, width1: 4, width2: 2, activation: 'tanh', seed: 5 });
    const path = join(dir, 'd8.onnx');
    await exportOnnx(net, path);
    await expectNnidError(onnxBlackBox(path, { inputDim: 9 }), 'E_DIMENSION_MISMATCH', `${path} takes inputs of dimension 8, but inputDim = 9 was requested`);
    const box = await onnxBlackBox(path, { inputDim: 8 });
    await expectNnidError(box.evaluate(gaussianPoints(3, 7, 1)), 'E_DIMENSION_MISMATCH', 'ONNX model d8.onnx takes inputs of dimension 8, but a batch of dimension 7 was given');
    await box.close();
  });

  it('E_ORACLE_OUTPUT naming the row when the model answers a non-finite number', async () => {
    const path = join(dir, 'log-sum.onnx');
    writeFileSync(path, logSumModel(3));
    const stored: number[] = [];
    const box = await onnxBlackBox(path, { batchSize: 4, onBatch: (_inputs, values) => void stored.push(...values) });
    const X = gaussianPoints(10, 3, 0);
    X.data.fill(1);
    X.data.fill(-1, 6 * 3, 7 * 3); // row 6 sums to -3: Log gives NaN
    await expectNnidError(box.evaluate(X), 'E_ORACLE_OUTPUT', 'ONNX model log-sum.onnx answered `NaN` for row 6, expected a finite number');
    // The first sub-batch (rows 0-3) was answered and reported before the bad one.
    expect(stored).toEqual([Math.log(3), Math.log(3), Math.log(3), Math.log(3)]);
    await box.close();
  });

  it('a symbolic input dimension needs inputDim; a float32 model answers with float32 rounding', async () => {
    const path = join(dir, 'symbolic.onnx');
    writeFileSync(path, logSumModel('d'));
    await expectNnidError(onnxBlackBox(path), 'E_FILE_READ', `cannot use ${path}: input 'x' has a symbolic dimension 'd'; pass it (--input-dim D; inputDim in the API)`);
    const box = await onnxBlackBox(path, { inputDim: 2 });
    const [v] = await box.evaluate({ data: Float64Array.of(1, 2), offset: 0, shape: [1, 2], strides: [2, 1] });
    expect(Math.abs(v - Math.log(3))).toBeLessThanOrEqual(2 ** -52); // onnxruntime's Log: within an ulp
    await box.close();

    const path32 = join(dir, 'float32.onnx');
    writeFileSync(path32, logSumModel(2, 1));
    const box32 = await onnxBlackBox(path32);
    expect(box32.inputType).toBe('float32');
    const [y] = await box32.evaluate({ data: Float64Array.of(1, 2), offset: 0, shape: [1, 2], strides: [2, 1] });
    expect(y).toBe(Math.fround(y));
    expect(Math.abs(y - Math.log(3))).toBeLessThan(1e-7);
    await box32.close();
  });

  it('refuses, when the model is opened, an output of another shape or type than one number per row', async () => {
    const dims = (list: (number | string)[]) => ({ dim: list.map((v) => (typeof v === 'number' ? { dimValue: v } : { dimParam: v })) });
    const tensor = (name: string, elemType: number, list: (number | string)[]) => ({ name, type: { tensorType: { elemType, shape: dims(list) } } });
    /** x [n, 3] DOUBLE -> `nodes` -> y declared as `out`. */
    const model = (nodes: object[], out: object) =>
      onnx.ModelProto.encode(
        onnx.ModelProto.create({
          irVersion: 7,
          opsetImport: [{ domain: '', version: 13 }],
          graph: {
            name: 'm',
            initializer: [{ name: 'axes', dims: [1], dataType: 7, rawData: new Uint8Array(BigInt64Array.of(2n).buffer) }],
            node: nodes,
            input: [tensor('x', 11, ['n', 3])],
            output: [out],
          },
        }),
      ).finish();
    const cases: [string, Uint8Array, string][] = [
      ['identity.onnx', model([{ opType: 'Identity', input: ['x'], output: ['y'] }], tensor('y', 11, ['n', 3])), "output 'y' has shape [n, 3] (float64), expected [n] or [n, 1] (one number per row of the batch)"],
      [
        'rank3.onnx',
        model([{ opType: 'Unsqueeze', input: ['x', 'axes'], output: ['y'] }], tensor('y', 11, ['n', 3, 1])),
        "output 'y' has shape [n, 3, 1] (float64), expected [n] or [n, 1] (one number per row of the batch)",
      ],
      [
        'int64.onnx',
        model([{ opType: 'Cast', input: ['x'], output: ['y'], attribute: [{ name: 'to', type: 2, i: 7 }] }], tensor('y', 7, ['n', 3])),
        "output 'y' is a int64 tensor, expected float64 (or float32) of shape [n] or [n, 1]",
      ],
    ];
    for (const [name, bytes, message] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      await expectNnidError(onnxBlackBox(path), 'E_FILE_READ', `cannot use ${path}: ${message}`);
    }
  });

  it('E_FILE_WRITE when the model cannot be written', async () => {
    const net = randomNetwork({ inputDim: 3, width1: 2, width2: 1, activation: 'tanh', seed: 1 });
    const path = join(dir, 'missing-dir', 'm.onnx');
    await expectNnidError(exportOnnx(net, path), 'E_FILE_WRITE', `cannot write ${path}: no such directory`);
  });
});
