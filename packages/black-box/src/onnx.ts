/**
 * An ONNX model file as a black box, run on the CPU with onnxruntime-node.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ErrorCodes, NnidError, checkInteger, type BlackBox, type Float64View } from '@nnid/core';
import { batchShape, checkOutputs, checkRowsOfK, copyRows, type BatchListener } from './batches.ts';

/**
 * Rows per `session.run`. Measured (tools/bench/black-box.ts, d = 50, m0 = 30, m1 = 10, one
 * thread): a run has ~30 us of fixed cost (30k queries/s one row at a time); throughput reaches
 * its plateau (1.1–2M queries/s on a loaded machine) from ~256 rows on. 4096 sits well inside
 * the plateau while each copy stays small (4096 x d doubles).
 */
export const DEFAULT_ONNX_BATCH_SIZE = 4096;

export interface OnnxBlackBoxOptions {
  /** Expected input dimension; a model that disagrees fails with E_DIMENSION_MISMATCH. Needed when the model's dimension is symbolic. */
  inputDim?: number;
  /** Rows per session run (default DEFAULT_ONNX_BATCH_SIZE). */
  batchSize?: number;
  /**
   * Threads onnxruntime may use inside one run (default 1). One thread keeps a run's
   * arithmetic, hence its answers, independent of the machine, and leaves the other cores to
   * the sampler; raise it for large models.
   */
  threads?: number;
  /** Called as each sub-batch's answers arrive (see BatchListener; k numbers per row with outputs 'many'). */
  onBatch?: BatchListener;
  /**
   * 'one' (default): the model must answer one number per row ([n] or [n, 1]), the BlackBox
   * contract. 'many': an output [n, k] is taken too; `outputs` is k and `evaluateOutputs` answers
   * n x k (`evaluate` still refuses k > 1: a query is one input row, it returns k numbers).
   */
  outputs?: 'one' | 'many';
}

export interface OnnxBlackBox extends BlackBox {
  readonly modelPath: string;
  /** Element type the model takes: 'float64' answers exactly; 'float32' rounds inputs to float32. */
  readonly inputType: 'float64' | 'float32';
  readonly batchSize: number;
  /** k, the numbers each row's answer holds (1 unless opened with outputs 'many'). */
  readonly outputs: number;
  /** Every output of each row: n x k numbers, row-major (any k). */
  evaluateOutputs(inputs: Float64View): Promise<Float64Array>;
  close(): Promise<void>;
}

type Ort = typeof import('onnxruntime-node');
let ortModule: Promise<Ort> | undefined;
/** Loaded on first use: importing onnxruntime costs ~100 ms and most commands never need it. */
function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node');
  return ortModule;
}

async function readModel(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new NnidError(ErrorCodes.fileRead, `cannot read ${path}: ${reason}`, { cause: e });
  }
}

/** A fused operator onnxruntime's graph optimizations made, with no kernel for the model's element type. */
const FUSED_KERNEL_MISSING = /Failed to find kernel for com\.microsoft\.(\w+)/;
/** An operator of the model itself with no kernel for its element type. */
const KERNEL_MISSING = /Could not find an implementation for (\w+)\(\d+\) node with name '([^']*)'/;

/**
 * The session, with onnxruntime's quirks on float64 models handled: a float64 model runs with the
 * basic graph optimizations only (the extended ones fuse x * sigmoid(x) (SiLU) into QuickGelu, which
 * has a float32 kernel only, and a BatchNormalization after MatMul + Add into a kernel that
 * answered 2e-8 off), as does any model that fails for a missing fused (com.microsoft) kernel
 * (the basic optimizations only (constant folding and redundant nodes; measured to answer as PyTorch did, to
 * 6e-16 on test/fixtures/real); an operator of the model itself with no kernel for its element
 * type (Erf, Atan, Softplus in float64) ends in one line naming it and what to do.
 */
async function createSession(ort: Ort, bytes: Buffer, modelPath: string, threads: number): Promise<import('onnxruntime-node').InferenceSession> {
  // logSeverityLevel 3 (errors): its warnings (e.g. one line per initializer that an older exporter also listed
  // as a graph input, keep_initializers_as_inputs) would otherwise fill the terminal; errors still reach the message
  const base = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', logSeverityLevel: 3 } as const;
  let first: unknown;
  for (const level of ['all', 'basic'] as const) {
    try {
      const session = await ort.InferenceSession.create(bytes, level === 'all' ? base : { ...base, graphOptimizationLevel: level });
      if (level === 'all' && session.inputMetadata[0]?.isTensor && session.inputMetadata[0].type === 'float64') {
        // float64: the extended optimizations' fusions lose precision (a float64 BatchNormalization after
        // MatMul + Add answered 2e-8 off; test/onnx-variety.test.ts), the basic ones answer exactly
        await session.release();
        continue;
      }
      return session;
    } catch (e) {
      first ??= e;
      if (!FUSED_KERNEL_MISSING.test(String((e as Error).message ?? e))) break;
    }
  }
  const message = String((first as Error).message ?? first);
  const missing = KERNEL_MISSING.exec(message);
  if (missing) {
    throw new NnidError(
      ErrorCodes.fileRead,
      `cannot run ${modelPath}: onnxruntime has no kernel for ${missing[1]} (node '${missing[2]}') in the model's element type (float64 has none for Erf, Atan, Softplus); run it in float32 (nnid convert --in ${modelPath} --out model32.onnx --float32) or evaluate its weights in nnid (nnid convert --in ${modelPath} --out net.json)`,
      { cause: first },
    );
  }
  throw new NnidError(ErrorCodes.fileRead, `cannot read ${modelPath}: not a model onnxruntime can load (${message.split('\n')[0]})`, { cause: first });
}

/**
 * Opens an ONNX model as a BlackBox. The model must have one tensor input of shape [n, d] or
 * [n, 1, d] (float64, or float32 with float32 accuracy) and a first output holding one number per row
 * ([n] or [n, 1]; with `outputs: 'many'`, k numbers per row, [n, k], read by `evaluateOutputs`). Identity: the SHA-256 of the file's bytes, so a renamed copy shares its
 * stored answers and a retrained model does not.
 *
 * Errors: E_FILE_READ (unreadable file, not an ONNX model), E_DIMENSION_MISMATCH (the model's
 * input dimension is not `options.inputDim`, or a batch of another dimension), E_ORACLE_OUTPUT
 * (a non-finite or missing output, naming the row).
 *
 * @example
 * await exportOnnx(net, 'model.onnx');
 * const box = await onnxBlackBox('model.onnx');          // box.inputDim === net.inputDim
 * const values = await box.evaluate(points);
 * await box.close();
 */
export async function onnxBlackBox(modelPath: string, options: OnnxBlackBoxOptions = {}): Promise<OnnxBlackBox> {
  const batchSize = checkInteger('batchSize', options.batchSize ?? DEFAULT_ONNX_BATCH_SIZE);
  const threads = checkInteger('threads', options.threads ?? 1);
  if (options.inputDim !== undefined) checkInteger('inputDim', options.inputDim);
  const bytes = await readModel(modelPath);
  const name = basename(modelPath);
  const ort = await loadOrt();
  const session = await createSession(ort, bytes, modelPath, threads);
  const fail = async (message: string, code: 'E_DIMENSION_MISMATCH' | 'E_FILE_READ' = ErrorCodes.fileRead): Promise<never> => {
    await session.release();
    throw new NnidError(code, message);
  };

  if (session.inputNames.length !== 1) {
    return fail(`cannot use ${modelPath}: the model has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}), expected one`);
  }
  const meta = session.inputMetadata[0];
  if (!meta.isTensor || (meta.type !== 'float64' && meta.type !== 'float32')) {
    return fail(`cannot use ${modelPath}: input '${meta.name}' is ${meta.isTensor ? `a ${meta.type} tensor` : 'not a tensor'}, expected float64 (or float32)`);
  }
  // [n, 1, d] (a model that squeezes its input, e.g. a sequence of length 1) is fed as such
  const unitAxis = meta.shape.length === 3 && meta.shape[1] === 1;
  if (meta.shape.length !== 2 && !unitAxis) {
    return fail(`cannot use ${modelPath}: input '${meta.name}' has shape [${meta.shape.join(', ')}], expected [n, inputDim] (or [n, 1, inputDim])`);
  }
  const declared = meta.shape[meta.shape.length - 1];
  // a fixed batch axis (exported without dynamic_axes: the dummy input's rows): every run is padded to it
  const fixedRows = typeof meta.shape[0] === 'number' && meta.shape[0] > 0 ? meta.shape[0] : 0;
  const runRows = fixedRows || batchSize;
  const feedShape = (n: number) => (unitAxis ? [n, 1, inputDim] : [n, inputDim]);
  let inputDim: number;
  if (typeof declared === 'number' && declared > 0) {
    if (options.inputDim !== undefined && options.inputDim !== declared) {
      return fail(`${modelPath} takes inputs of dimension ${declared}, but inputDim = ${options.inputDim} was requested`, ErrorCodes.dimensionMismatch);
    }
    inputDim = declared;
  } else if (options.inputDim !== undefined) {
    inputDim = options.inputDim;
  } else {
    return fail(`cannot use ${modelPath}: input '${meta.name}' has a symbolic dimension '${String(declared)}'; pass it (--input-dim D; inputDim in the API)`);
  }
  // The output, from its declared metadata: one float number per row, [n] or [n, 1].
  const out = session.outputMetadata[0];
  if (out && (!out.isTensor || (out.type !== 'float64' && out.type !== 'float32'))) {
    return fail(`cannot use ${modelPath}: output '${out.name}' is ${out.isTensor ? `a ${out.type} tensor` : 'not a tensor'}, expected float64 (or float32) of shape [n] or [n, 1]`);
  }
  let outputs = 1;
  if (out?.isTensor) {
    const shape = out.shape;
    const second = shape[1];
    const many = options.outputs === 'many' && shape.length === 2;
    if (shape.length === 0 || shape.length > 2 || (shape.length === 2 && typeof second === 'number' && second !== 1 && !many)) {
      const shown = `[${shape.map((v) => (typeof v === 'number' && v >= 0 ? String(v) : String(v || '?'))).join(', ')}]`;
      return fail(`cannot use ${modelPath}: output '${out.name}' has shape ${shown} (${out.type}), expected [n] or [n, 1] (one number per row of the batch)`);
    }
    if (many && typeof second === 'number' && second > 0) outputs = second;
    else if (many) {
      // a symbolic k: one row of zeros tells it
      const n = fixedRows || 1;
      const probe = await session.run({ [meta.name]: new ort.Tensor(meta.type, meta.type === 'float64' ? new Float64Array(n * inputDim) : new Float32Array(n * inputDim), feedShape(n)) });
      outputs = (probe[session.outputNames[0]].data as ArrayLike<number>).length / n;
    }
  }
  const inputName = meta.name;
  const outputName = session.outputNames[0];
  const inputType = meta.type;
  const identity = `onnx:sha256:${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}`;
  const source = `ONNX model ${name}`;

  async function evaluateOutputs(inputs: Float64View): Promise<Float64Array> {
    const k = outputs;
    const { rows, rowStride, colStride } = batchShape(inputs, inputDim, source);
    const out = new Float64Array(rows * k);
    for (let start = 0; start < rows; start += runRows) {
      const end = Math.min(rows, start + runRows);
      const dense = copyRows(inputs, inputDim, start, end, rowStride, colStride);
      let fed: Float64Array = dense;
      if (fixedRows > end - start) {
        fed = new Float64Array(fixedRows * inputDim);
        fed.set(dense);
      }
      const n = fixedRows || end - start;
      const feed = new ort.Tensor(inputType, inputType === 'float64' ? fed : Float32Array.from(fed), feedShape(n));
      let result: Record<string, import('onnxruntime-node').Tensor>;
      try {
        result = await session.run({ [inputName]: feed });
      } catch (e) {
        throw new NnidError(ErrorCodes.oracle, `${source} failed on rows ${start}–${end - 1}: ${String((e as Error).message).split('\n')[0]}`, { cause: e });
      }
      const tensor = result[outputName];
      const answered = fixedRows > end - start ? (tensor.data as Float64Array | Float32Array).subarray(0, (end - start) * k) : (tensor.data as ArrayLike<number>);
      const values = k === 1 ? checkOutputs(source, answered, end - start, start) : checkRowsOfK(source, answered, end - start, start, k);
      tensor.dispose();
      out.set(values, start * k);
      if (options.onBatch) {
        await options.onBatch({ data: dense, offset: 0, shape: [end - start, inputDim], strides: [inputDim, 1] }, values);
      }
    }
    return out;
  }

  async function evaluate(inputs: Float64View): Promise<Float64Array> {
    if (outputs !== 1) {
      throw new NnidError(ErrorCodes.oracleOutput, `${source} answers ${outputs} numbers per row: evaluate takes one; use evaluateOutputs (identifyOutputs; nnid identify does)`);
    }
    return evaluateOutputs(inputs);
  }

  let closed = false;
  return {
    inputDim,
    identity,
    modelPath,
    inputType,
    batchSize: runRows,
    outputs,
    evaluate,
    evaluateOutputs,
    async close() {
      if (closed) return;
      closed = true;
      await session.release();
    },
  };
}
