/**
 * `nnid export`: a network as an ONNX model (float64, or float32 on request), so every oracle path
 * can be tested without a training framework; a v2 network with k outputs answers [n, k].
 */
import { statSync, writeFileSync } from 'node:fs';
import { ErrorCodes, NnidError, matrix, readNetworkAny, rng } from '@nnid/core';
import { checkOutputs, replaceAtomically } from '../files.ts';
import { exportOnnx, onnxBlackBox, onnxGeneralModelBytes } from '@nnid/black-box';
import { evaluateGeneral } from '@nnid/oracle';
import { stringOption, UsageError, type Command, type Values } from '../cli.ts';

const help = `usage: nnid export --network net.json --onnx model.onnx [--float32] [--check]

Writes the network as an ONNX model: input "x" [n, d], output "y" (opset 13). A v1 network:
MatMul, Add, activation, MatMul, Add, activation, ReduceSum, output [n]; a v2 network:
MatMul + Add per layer, output [n, k] (k = 1: [n, 1]). In float64 by default, so the model
answers as the network does to float64 rounding.

options:
  --network FILE       the network (nnid.network/v1, or v2 with k >= 1 outputs)
  --onnx FILE          where to write the model
  --float32            write the weights and the computation in float32 (a v2 layout; what a
                       deployed model usually runs in: answers to ~1e-7 relative)
  --check              load the model with onnxruntime and compare it with the network on 1000
                       Gaussian points (prints the largest difference; float64: at most 1e-12,
                       float32: at most 1e-4 relative)
  -h, --help           this help

example:
  nnid export --network net.json --onnx model.onnx --check
  nnid identify --oracle model.onnx ...`;

export const command: Command = {
  name: 'export',
  summary: 'write a network as an ONNX model (float64, or float32)',
  help,
  options: {
    network: { type: 'string' },
    onnx: { type: 'string' },
    float32: { type: 'boolean' },
    check: { type: 'boolean' },
  },
  async run(values: Values, io) {
    const file = stringOption(values, 'network');
    const out = stringOption(values, 'onnx');
    checkOutputs([{ flag: '--onnx', path: out }], [{ flag: '--network', path: file }]);
    const read = readNetworkAny(file);
    const net = read.general;
    const float32 = values.float32 === true;
    // written beside the target and renamed over it: a failed write keeps an earlier model whole
    await replaceAtomically({ flag: '--onnx', path: out }, async (tmp) => {
      try {
        if (read.format === 'nnid.network/v1' && !float32) await exportOnnx(read.network, tmp);
        else writeFileSync(tmp, onnxGeneralModelBytes(net, { float32 }));
      } catch (e) {
        if (e instanceof NnidError && e.code === ErrorCodes.fileWrite) throw new UsageError(e.message.split(tmp).join(out));
        throw e;
      }
    });
    const k = net.outputs > 1 ? `, k = ${net.outputs}` : '';
    io.out(`wrote ${out}: ONNX opset 13, ${float32 ? 'float32' : 'float64'}, d = ${net.inputDim}, m0 = ${net.width1}, m1 = ${net.width2}${k}, ${net.activation.layer1}/${net.activation.layer2} (${statSync(out).size} bytes)`);
    if (values.check) {
      const box = await onnxBlackBox(out, { outputs: 'many' });
      try {
        const X = matrix(1000, net.inputDim);
        rng(0).fillNormal(X.data);
        const got = await box.evaluateOutputs(X);
        const ref = evaluateGeneral(net, X).data;
        let maxAbs = 0;
        let scale = 0;
        for (let i = 0; i < ref.length; i++) {
          maxAbs = Math.max(maxAbs, Math.abs(got[i] - ref[i]));
          scale = Math.max(scale, Math.abs(ref[i]));
        }
        io.out(`check: max |f_onnx - f| = ${maxAbs.toExponential(2)} on 1000 points from N(0, I_${net.inputDim})${net.outputs > 1 ? ` (all ${net.outputs} outputs)` : ''}`);
        if (!(float32 ? maxAbs <= 1e-4 * Math.max(1, scale) : maxAbs <= 1e-12)) return 1;
      } finally {
        await box.close();
      }
    }
    return 0;
  },
};
