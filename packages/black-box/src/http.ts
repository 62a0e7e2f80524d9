/**
 * An HTTP endpoint as a black box (protocol: README.md, "HTTP protocol").
 *
 *   GET  <url>  -> 200 { "format": "nnid.black-box/v1", "inputDim": d, "maxBatch": N?, "identity": "..."? }
 *   POST <url>  { "inputs": [[...d numbers], ...] }  -> 200 { "outputs": [...one number per row] }
 *                                                       or { "outputs": [[y1..yk], ...] } (k outputs)
 *   errors      -> 4xx/5xx { "error": "message" }
 */
import { ErrorCodes, NnidError, checkInteger, invalidArgument, type BlackBox, type Float64View } from '@nnid/core';
import { batchShape, checkOutputs, copyRows, jsonNumbers, type BatchListener } from './batches.ts';
import { HTTP_DEFAULTS, OracleHttpError, checkToken, openTransport, redactUrl, type RetryEvent } from './request.ts';

export const BLACK_BOX_PROTOCOL = 'nnid.black-box/v1';

export interface HttpBlackBoxOptions {
  /** Sent as `Authorization: Bearer <token>`; never printed. */
  token?: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /**
   * The longest one request may take, its retries and their waits included (default 30 000 ms):
   * a server that never answers fails within it.
   */
  timeoutMs?: number;
  /** Retries per request after the first attempt (default 5; an HTTP 500 is retried at most twice). */
  retries?: number;
  /** First backoff in ms (default 200), doubled per retry. */
  backoffMs?: number;
  /** Rows per request (default 1024, lowered to the server's maxBatch). */
  batchSize?: number;
  /**
   * The input dimension. When omitted, the server's GET description must announce it; when
   * given, a server without a description (GET answered 404, 405, 501, another 4xx or no JSON)
   * is accepted, and one that announces another dimension is E_DIMENSION_MISMATCH.
   */
  inputDim?: number;
  /** Overrides the identity that keys the query store (default: see httpBlackBox). */
  identity?: string;
  /** Called as each request's answers arrive (see BatchListener). */
  onBatch?: BatchListener;
  /** Called before each retry (for logs and tests). */
  onRetry?: (event: RetryEvent) => void;
  /**
   * 'one' (default): one number per row (`[y, ...]` or `[[y], ...]`), the BlackBox contract.
   * 'many': k numbers per row, `[[y1, ..., yk], ...]`; k is what the description announces
   * (`"outputs": k`), else what the first answer holds; every answer is checked against it.
   * `evaluateOutputs` answers n x k; `evaluate` refuses k > 1 (a query is one input row).
   */
  outputs?: 'one' | 'many';
}

export interface HttpBlackBox extends BlackBox {
  /** The URL as given (it may hold credentials: print `shownUrl`). */
  readonly url: string;
  /** The URL with credentials and secret query parameters masked. */
  readonly shownUrl: string;
  readonly batchSize: number;
  /** The server's GET description, when it gave one. */
  readonly description: ServerDescription | undefined;
  /**
   * k, the numbers each row's answer holds: 1 for outputs 'one'; for 'many' the announced k, or
   * undefined until the first answer tells it.
   */
  readonly outputs: number | undefined;
  /** Every output of each row: n x k numbers, row-major. */
  evaluateOutputs(inputs: Float64View): Promise<Float64Array>;
  close(): Promise<void>;
}

export interface ServerDescription {
  format?: string;
  inputDim?: number;
  maxBatch?: number;
  identity?: string;
  /** k, the numbers each row's answer holds (a server of k > 1 outputs announces it; default 1). */
  outputs?: number;
}

/** GET statuses that mean "no description here" (not: the server refuses us). */
function noDescription(e: unknown): boolean {
  return e instanceof OracleHttpError && e.status !== 401 && e.status !== 403 && e.status !== 407 && (e.status < 500 || e.status === 501);
}

function parseJson(url: string, text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const bare = /(?<![\w".])(-?Infinity|NaN)(?![\w"])/.exec(text);
    if (bare) {
      throw new NnidError(ErrorCodes.oracleOutput, `${url} ${what}: the answer is not valid JSON: it holds a bare ${bare[1]} (JSON has no ${bare[1]}: the service's model answered a non-finite number)`);
    }
    const flat = text.length > 60 ? `${text.slice(0, 57)}...` : text;
    throw new NnidError(ErrorCodes.oracleOutput, `${url} ${what}: the answer is not JSON: ${JSON.stringify(flat)}`);
  }
}

/**
 * An HTTP endpoint as a BlackBox. Opening it asks the server for its description (GET) with
 * the same retry policy; a server that has none (GET answered 404, 405, 501, another 4xx, or
 * something that is not a JSON description) is accepted when `inputDim` is given. Batches are
 * split into requests of `batchSize` rows, at most `concurrency` in flight. Requests go through
 * node:http / node:https (any port works, also those fetch refuses), with the retry policy of
 * `openTransport` (request.ts). Answers are `{"outputs": [y, ...]}` or `{"outputs": [[y], ...]}`
 * (with outputs 'many', `{"outputs": [[y1, ..., yk], ...]}`), or the same arrays bare.
 *
 * Identity (keys the query store): `options.identity`, else `http:` + the identity the server
 * announces (so a restarted server on another port shares its stored answers), else `http:` +
 * the URL without credentials (and with secret query parameters masked).
 *
 * Numbers travel as JSON: JavaScript writes a double with the shortest digits that read back to
 * the same double, so inputs and outputs cross exactly (-0 is written "-0" and survives too).
 *
 * When a request fails for good, no new request is started, the ones in flight finish (their
 * answers reach `onBatch`), and `evaluate` rejects with E_ORACLE_UNAVAILABLE (retries or time
 * spent), E_ORACLE (a status a retry cannot cure, naming it and the server's message; a TLS
 * certificate error) or E_ORACLE_OUTPUT (a bad answer, naming the row). No message shows the
 * token or the URL's credentials.
 *
 * @example
 * const box = await httpBlackBox('https://models.example.com/f', { token: process.env.NNID_ORACLE_TOKEN, inputDim: 50 });
 * const values = await box.evaluate(points);
 * await box.close();
 */
export async function httpBlackBox(url: string, options: HttpBlackBoxOptions = {}): Promise<HttpBlackBox> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return invalidArgument('url', 'must be an http:// or https:// URL', redactUrl(String(url)));
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') invalidArgument('url', 'must be an http:// or https:// URL', redactUrl(url));
  const concurrency = checkInteger('concurrency', options.concurrency ?? HTTP_DEFAULTS.concurrency);
  const timeoutMs = checkInteger('timeoutMs', options.timeoutMs ?? HTTP_DEFAULTS.timeoutMs);
  const retries = checkInteger('retries', options.retries ?? HTTP_DEFAULTS.retries, 0);
  const backoffMs = checkInteger('backoffMs', options.backoffMs ?? HTTP_DEFAULTS.backoffMs, 0);
  let batchSize = checkInteger('batchSize', options.batchSize ?? HTTP_DEFAULTS.batchSize);
  if (options.inputDim !== undefined) checkInteger('inputDim', options.inputDim);
  if (options.token !== undefined && options.token !== '') checkToken(options.token);
  const transport = openTransport(parsed, { token: options.token || undefined, timeoutMs, retries, backoffMs, concurrency, onRetry: options.onRetry });
  const shown = transport.shown;

  let description: ServerDescription | undefined;
  let withoutDescription = '';
  try {
    const text = await transport.request('GET', undefined, [-1, -1], 'description (GET)');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // a page, not a description (a web app's index): the caller must give the dimension
    }
    if (json && typeof json === 'object' && !Array.isArray(json)) description = json as ServerDescription;
    else withoutDescription = 'GET answered no JSON description';
  } catch (e) {
    if (!noDescription(e)) {
      transport.close();
      throw e;
    }
    withoutDescription = `GET answered HTTP ${(e as OracleHttpError).status}`;
  }
  const announced = description?.inputDim;
  if (announced !== undefined && !(Number.isInteger(announced) && announced > 0)) {
    transport.close();
    throw new NnidError(ErrorCodes.oracleOutput, `${shown} description (GET): inputDim is ${JSON.stringify(announced)}, expected a positive integer`);
  }
  let inputDim: number;
  if (announced !== undefined) {
    if (options.inputDim !== undefined && options.inputDim !== announced) {
      transport.close();
      throw new NnidError(ErrorCodes.dimensionMismatch, `${shown} takes inputs of dimension ${announced}, but inputDim = ${options.inputDim} was requested`);
    }
    inputDim = announced;
  } else if (options.inputDim !== undefined) {
    inputDim = options.inputDim;
  } else {
    transport.close();
    const why = withoutDescription || 'GET answered no { "inputDim": d }';
    throw new NnidError(ErrorCodes.invalidArgument, `${shown} does not announce its input dimension (${why}): pass it (--input-dim D; inputDim in the API)`);
  }
  const maxBatch = description?.maxBatch;
  if (typeof maxBatch === 'number' && Number.isInteger(maxBatch) && maxBatch > 0) batchSize = Math.min(batchSize, maxBatch);
  const identity = options.identity ?? (typeof description?.identity === 'string' && description.identity ? `http:${description.identity}` : `http:${shown}`);
  const many = options.outputs === 'many';
  if (options.outputs !== undefined && options.outputs !== 'one' && !many) invalidArgument('outputs', "must be 'one' or 'many'", options.outputs);
  const announcedOutputs = description?.outputs;
  if (announcedOutputs !== undefined && !(Number.isInteger(announcedOutputs) && announcedOutputs > 0)) {
    transport.close();
    throw new NnidError(ErrorCodes.oracleOutput, `${shown} description (GET): outputs is ${JSON.stringify(announcedOutputs)}, expected a positive integer`);
  }
  // k: 1 for 'one'; for 'many' the announced k, else the first answer's
  let outputs: number | undefined = many ? announcedOutputs : 1;

  // (evaluateOne names the answer `outputs`: k is read through this)
  const kOutputs = () => outputs;

  /** k numbers per row ('many'): every row an array of k finite numbers (or a bare number when k = 1). */
  function rowsOfK(answer: unknown[], start: number, end: number): Float64Array {
    const n = end - start;
    if (answer.length !== n) {
      throw new NnidError(ErrorCodes.oracleOutput, `${shown} answered ${answer.length} outputs for rows ${start}–${end - 1}, expected ${n}`);
    }
    if (outputs === undefined) {
      const first = answer[0];
      outputs = Array.isArray(first) ? first.length : 1;
      if (outputs === 0) throw new NnidError(ErrorCodes.oracleOutput, `${shown} answered an empty array for row ${start}, expected k numbers per row`);
    }
    const k = outputs;
    const values = new Float64Array(n * k);
    for (let r = 0; r < n; r++) {
      const row = answer[r];
      const numbers: unknown[] = Array.isArray(row) ? row : [row];
      if (numbers.length !== k) {
        throw new NnidError(ErrorCodes.oracleOutput, `${shown} answered ${numbers.length} numbers for row ${start + r}, expected k = ${k} (as ${announcedOutputs !== undefined ? 'its description announces' : 'its first answer held'})`);
      }
      for (let o = 0; o < k; o++) {
        const v = numbers[o];
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw new NnidError(ErrorCodes.oracleOutput, `${shown} answered \`${JSON.stringify(v) ?? String(v)}\` for row ${start + r} (output ${o}), expected a finite number`);
        }
        values[r * k + o] = v;
      }
    }
    return values;
  }

  async function evaluateOne(inputs: Float64View, start: number, end: number, rowStride: number, colStride: number): Promise<Float64Array> {
    const dense = copyRows(inputs, inputDim, start, end, rowStride, colStride);
    const parts: string[] = [];
    for (let r = 0; r < end - start; r++) parts.push(jsonNumbers(dense, r * inputDim, (r + 1) * inputDim));
    const what = `rows ${start}–${end - 1}`;
    const knownK = kOutputs();
    const text = await transport.request('POST', `{"inputs":[${parts.join(',')}]}`, [start, end - 1], what);
    const json = parseJson(shown, text, what) as { outputs?: unknown } | null;
    // {"outputs": [...]}, or the bare array [...] some model servers send
    const outputs = Array.isArray(json) ? (json as unknown[]) : json && typeof json === 'object' ? json.outputs : undefined;
    if (!Array.isArray(outputs)) {
      throw new NnidError(ErrorCodes.oracleOutput, `${shown} answered no \`outputs\` array for rows ${start}–${end - 1}`);
    }
    // 'many' with k = 1 known: the one-number path below (its messages)
    if (many && knownK !== 1) {
      const values = rowsOfK(outputs, start, end);
      if (options.onBatch) await options.onBatch({ data: dense, offset: 0, shape: [end - start, inputDim], strides: [inputDim, 1] }, values);
      return values;
    }
    // Shape [n, 1] (what many ML servers send) is read as [n].
    for (let k = 0; k < outputs.length; k++) {
      const v = outputs[k];
      if (!Array.isArray(v)) continue;
      if (v.length !== 1) {
        throw new NnidError(ErrorCodes.oracleOutput, `${shown} answered an array of ${v.length} values for row ${start + k}, expected one number (or [number]) per row`);
      }
      outputs[k] = v[0];
    }
    const values = checkOutputs(shown, outputs, end - start, start);
    if (options.onBatch) await options.onBatch({ data: dense, offset: 0, shape: [end - start, inputDim], strides: [inputDim, 1] }, values);
    return values;
  }

  async function evaluateOutputs(inputs: Float64View): Promise<Float64Array> {
    const { rows, rowStride, colStride } = batchShape(inputs, inputDim, shown);
    // k may be learnt from the first answer: the parts are assembled once all arrived
    const parts: { start: number; values: Float64Array }[] = [];
    let next = 0;
    let failure: unknown;
    // `concurrency` lanes each take the next sub-batch until none is left or one has failed.
    const lane = async () => {
      while (failure === undefined && next < rows) {
        const start = next;
        const end = Math.min(rows, start + batchSize);
        next = end;
        try {
          parts.push({ start, values: await evaluateOne(inputs, start, end, rowStride, colStride) });
        } catch (e) {
          failure ??= e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.ceil(rows / batchSize)) }, lane));
    if (failure !== undefined) throw failure;
    const k = outputs ?? 1;
    const out = new Float64Array(rows * k);
    for (const part of parts) out.set(part.values, part.start * k);
    return out;
  }

  async function evaluate(inputs: Float64View): Promise<Float64Array> {
    if (many && outputs !== undefined && outputs !== 1) {
      throw new NnidError(ErrorCodes.oracleOutput, `${shown} answers ${outputs} numbers per row: evaluate takes one; use evaluateOutputs (identifyOutputs; nnid identify does)`);
    }
    const values = await evaluateOutputs(inputs);
    if (outputs !== 1) {
      throw new NnidError(ErrorCodes.oracleOutput, `${shown} answers ${outputs} numbers per row: evaluate takes one; use evaluateOutputs (identifyOutputs; nnid identify does)`);
    }
    return values;
  }

  return {
    inputDim,
    identity,
    url,
    shownUrl: shown,
    batchSize,
    description,
    get outputs() {
      return outputs;
    },
    evaluate,
    evaluateOutputs,
    close: async () => transport.close(),
  };
}
