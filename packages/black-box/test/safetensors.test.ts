/**
 * safetensors: a PyTorch state_dict (written by tools/fixtures/make_real_onnx.py from
 * nn.Sequential(Linear, Tanh, Linear, GELU, Linear)) read into nnid.network/v2 answers as PyTorch
 * did; nnid's own files round-trip exactly; bad files are one line each.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matrixFrom, serializeNetworkV2, toDense } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { parseSafetensors, readSafetensors, safetensorsBytes } from '../src/index.ts';

const dir = new URL('./fixtures/real/', import.meta.url);
const activation = { layer1: 'tanh', layer2: 'gelu' } as const;

describe('safetensors', () => {
  for (const [suffix, dtype, tolerance] of [['', 'float32', 1e-6], ['-float64', 'float64', 1e-13]] as const) {
    it(`a PyTorch state_dict (${dtype}) answers as PyTorch did (relative ${tolerance})`, async () => {
      const name = `d6-m5-m3-k2-tanh-gelu-torch${suffix}`;
      const meta = JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as { inputs: number[][]; outputs: number[][] };
      const read = await readSafetensors(new URL(`${name}.safetensors`, dir).pathname, { activation });
      expect([read.dtype, read.network.inputDim, read.network.width1, read.network.width2, read.network.outputs]).toEqual([dtype, 6, 5, 3, 2]);
      const F = evaluateGeneral(read.network, matrixFrom(Float64Array.from(meta.inputs.flat()), 16, 6));
      const want = meta.outputs.flat();
      const scale = Math.max(...want.map(Math.abs));
      for (let i = 0; i < want.length; i++) expect(Math.abs(F.data[i] - want[i])).toBeLessThanOrEqual(tolerance * scale);
    });
  }

  it('nnid writes F64 that reads back exactly, activations in the metadata; F32 on request', () => {
    const net = randomGeneralNetwork({ inputDim: 4, width1: 3, width2: 2, outputs: 3, activation: { layer1: 'silu', layer2: 'arctan' }, seed: 9 });
    expect(serializeNetworkV2(parseSafetensors(safetensorsBytes(net), 'x').network)).toEqual(serializeNetworkV2(net));
    const bytes = safetensorsBytes(net, { float32: true });
    const header = JSON.parse(Buffer.from(bytes).subarray(8, 8 + Number(Buffer.from(bytes).readBigUInt64LE(0))).toString());
    expect(header['0.weight']).toEqual({ dtype: 'F32', shape: [3, 4], data_offsets: [0, 48] });
    expect(header.__metadata__).toEqual({ format: 'pt', 'nnid.activation': 'silu/arctan' });
    const read = parseSafetensors(bytes, 'x');
    expect(read.dtype).toBe('float32');
    expect(Array.from(toDense(read.network.W1).data)).toEqual(Array.from(Float32Array.from(toDense(net.W1).data)));
  });

  it('bad files: one line each', async () => {
    const path = new URL('d6-m5-m3-k2-tanh-gelu-torch.safetensors', dir).pathname;
    await expect(readSafetensors(path)).rejects.toThrow(`cannot import ${path}: a state_dict holds no activations: give them (--activation layer1/layer2, e.g. tanh/tanh)`);
    await expect(readSafetensors(path, { activation: { layer1: 'relu' as 'tanh', layer2: 'tanh' } })).rejects.toThrow(/^invalid argument\. `activation\.layer1` must be a smooth activation: relu is piecewise linear: .* Value: `relu`\.$/);
    expect(() => parseSafetensors(Buffer.from('abc'), 'x.safetensors')).toThrow('cannot import x.safetensors: 3 bytes, not a safetensors file (8-byte header length, JSON header, data)');
    const net = randomGeneralNetwork({ inputDim: 2, width1: 2, width2: 2, seed: 1 });
    const text = Buffer.from(safetensorsBytes(net)).toString('latin1').replace('"4.weight"', '"6.weight"').replace('"4.bias"', '"6.bias"');
    const four = Buffer.from(text.replace('"2.bias"', '"4.weight"'), 'latin1');
    expect(() => parseSafetensors(four, 'x')).toThrow("cannot import x: 4 Linear layers (0.weight, 2.weight, 4.weight, 6.weight), 3 hidden: nnid takes two hidden layers and a linear output layer");
    const f16 = Buffer.from(Buffer.from(safetensorsBytes(net)).toString('latin1').replace('"F64"', '"F16"'), 'latin1');
    expect(() => parseSafetensors(f16, 'x')).toThrow("cannot import x: tensor '0.weight' is F16; nnid reads F32 and F64 (save with model.float() or model.double())");
  });
});

describe('safetensors of a custom nn.Module (names other than 0, 2, 4)', () => {
  /** A safetensors file by hand: the 8-byte header length, the JSON header, the F64 bytes. */
  function file(tensors: [string, number[], Float64Array][], metadata: Record<string, string>): Uint8Array {
    const header: Record<string, unknown> = { __metadata__: metadata };
    let at = 0;
    for (const [name, shape, values] of tensors) {
      header[name] = { dtype: 'F64', shape, data_offsets: [at, at + 8 * values.length] };
      at += 8 * values.length;
    }
    const text = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(text.length));
    return Buffer.concat([length, text, ...tensors.map(([, , v]) => Buffer.from(v.buffer))]);
  }

  it('layers named inp, hidden, out (alphabetically hidden, inp, out): ordered by how their shapes chain, exactly', () => {
    const net = randomGeneralNetwork({ inputDim: 5, width1: 4, width2: 3, outputs: 2, activation: 'tanh', seed: 3 });
    const bytes = file(
      [
        ['hidden.weight', [3, 4], toDense(net.W2).data],
        ['hidden.bias', [3], Float64Array.from(net.b2)],
        ['inp.weight', [4, 5], toDense(net.W1).data],
        ['inp.bias', [4], Float64Array.from(net.b1)],
        ['out.weight', [2, 3], toDense(net.C).data],
        ['out.bias', [2], Float64Array.from(net.c)],
      ],
      { format: 'pt', 'nnid.activation': 'tanh/tanh' },
    );
    expect(serializeNetworkV2(parseSafetensors(bytes, 'm.safetensors').network)).toEqual(serializeNetworkV2(net));
  });

  it('names whose shapes chain in every order (all 3 x 3): taken in alphabetical order (the one nn.Sequential-like names give)', () => {
    const net = randomGeneralNetwork({ inputDim: 3, width1: 3, width2: 3, outputs: 3, activation: 'tanh', seed: 3 });
    const bytes = file(
      [
        ['b.weight', [3, 3], toDense(net.W2).data],
        ['a.weight', [3, 3], toDense(net.W1).data],
        ['c.weight', [3, 3], toDense(net.C).data],
      ] as [string, number[], Float64Array][],
      { 'nnid.activation': 'tanh/tanh' },
    );
    const read = parseSafetensors(bytes, 'm.safetensors').network;
    expect(Array.from(toDense(read.W1).data)).toEqual(Array.from(toDense(net.W1).data));
    expect(Array.from(toDense(read.W2).data)).toEqual(Array.from(toDense(net.W2).data));
  });
});
