/**
 * `nnid export`: a network as an ONNX model (float64), so every oracle path can be tested
 * without a training framework.
 */
import { statSync } from 'node:fs';
import { ErrorCodes, NnidError, matrix, readNetworkFile, rng } from '@nnid/core';
import { checkOutputs, replaceAtomically } from '../files.ts';
import { exportOnnx, onnxBlackBox } from '@nnid/black-box';
import { evaluateNetwork } from '@nnid/oracle';
import { stringOption, UsageError, type Command, type Values } from '../cli.ts';

const help = `usage: nnid export --network net.json --onnx model.onnx [--check]

Writes the network as an ONNX model: input "x" double [n, d], output "y" double [n];
MatMul, Add, Tanh/Sigmoid, MatMul, Add, Tanh/Sigmoid, ReduceSum (opset 13), all in float64, so
the model answers as the network does to float64 rounding.

options:
  --network FILE       the network (nnid.network/v1)
  --onnx FILE          where to write the model
  --check              load the model with onnxruntime and compare it with the network on 1000
                       Gaussian points (prints the largest difference)
  -h, --help           this help

example:
  nnid export --network net.json --onnx model.onnx --check
  nnid identify --oracle model.onnx ...`;

export const command: Command = {
  name: 'export',
  summary: 'write a network as an ONNX model (float64)',
  help,
  options: {
    network: { type: 'string' },
    onnx: { type: 'string' },
    check: { type: 'boolean' },
  },
  async run(values: Values, io) {
    const file = stringOption(values, 'network');
    const out = stringOption(values, 'onnx');
    checkOutputs([{ flag: '--onnx', path: out }], [{ flag: '--network', path: file }]);
    const net = readNetworkFile(file);
    // written beside the target and renamed over it: a failed write keeps an earlier model whole
    await replaceAtomically({ flag: '--onnx', path: out }, async (tmp) => {
      try {
        await exportOnnx(net, tmp);
      } catch (e) {
        if (e instanceof NnidError && e.code === ErrorCodes.fileWrite) throw new UsageError(e.message.split(tmp).join(out));
        throw e;
      }
    });
    io.out(`wrote ${out}: ONNX opset 13, float64, d = ${net.inputDim}, m0 = ${net.width1}, m1 = ${net.width2}, ${net.activation.layer1}/${net.activation.layer2} (${statSync(out).size} bytes)`);
    if (values.check) {
      const box = await onnxBlackBox(out);
      try {
        const X = matrix(1000, net.inputDim);
        rng(0).fillNormal(X.data);
        const got = await box.evaluate(X);
        const ref = evaluateNetwork(net, X);
        let maxAbs = 0;
        for (let i = 0; i < ref.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got[i] - ref[i]));
        io.out(`check: max |f_onnx - f| = ${maxAbs.toExponential(2)} on 1000 points from N(0, I_${net.inputDim})`);
        if (!(maxAbs <= 1e-12)) return 1;
      } finally {
        await box.close();
      }
    }
    return 0;
  },
};
