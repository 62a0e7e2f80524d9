/**
 * Every activation's ONNX nodes (ONNX_ACTIVATION_NODES, one row per name): the exported model
 * answers as the in-process network, in double, where onnxruntime has double kernels for the
 * operators; where it has none (Erf for gelu, Atan for arctan), the model is well formed and the
 * runtime's refusal names the operator.
 */
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, toDense, type ActivationName } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { onnxModelBytes } from '../src/index.ts';
import { gaussianPoints } from './helpers.ts';

const { onnx } = onnxProto;

/** The operator onnxruntime 1.30 has no double kernel for, per activation (none: it runs). */
const NO_DOUBLE_KERNEL: Partial<Record<ActivationName, string>> = { gelu: 'Erf', arctan: 'Atan' };

describe('each activation exports to ONNX', () => {
  for (const name of ACTIVATIONS) {
    it(`${name}: ${NO_DOUBLE_KERNEL[name] ? `a well-formed graph; onnxruntime refuses its double ${NO_DOUBLE_KERNEL[name]}` : 'answers as the in-process network to float64 rounding'}`, async () => {
      const net = randomNetwork({ inputDim: 6, width1: 4, width2: 3, activation: { layer1: name, layer2: name }, seed: 5 });
      const bytes = onnxModelBytes(net);
      const model = onnx.ModelProto.decode(bytes);
      const names = model.graph!.node!.map((n) => n.name);
      expect(new Set(names).size).toBe(names.length);
      const missing = NO_DOUBLE_KERNEL[name];
      if (missing) {
        expect(model.graph!.node!.some((n) => n.opType === missing)).toBe(true);
        await expect(ort.InferenceSession.create(bytes)).rejects.toThrow(`Could not find an implementation for ${missing}`);
        return;
      }
      // graph optimizations off: onnxruntime fuses x * sigmoid(x) into a float-only kernel
      const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
      const X = gaussianPoints(500, 6, 2);
      const x = Float64Array.from(toDense(X).data);
      const got = (await session.run({ x: new ort.Tensor('float64', x, [500, 6]) })).y.data as Float64Array;
      const ref = evaluateNetwork(net, X);
      let maxRel = 0;
      for (let i = 0; i < ref.length; i++) maxRel = Math.max(maxRel, Math.abs(got[i] - ref[i]) / Math.max(1, Math.abs(ref[i])));
      expect(maxRel).toBeLessThan(1e-14);
    });
  }
});
