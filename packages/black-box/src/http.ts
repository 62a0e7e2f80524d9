/**
 * An HTTP endpoint as a black box (protocol: README.md, "HTTP protocol").
 *
 *   GET  <url>  -> 200 { "format": "nnid.black-box/v1", "inputDim": d, "maxBatch": N?, "identity": "..."? }
 *   POST <url>  { "inputs": [[...d numbers], ...] }  -> 200 { "outputs": [...one number per row] }
 *   errors      -> 4xx/5xx { "error": "message" }
 */
import { ErrorCodes, NnidError, checkInteger, invalidArgument, type BlackBox, type Float64View } from '@nnid/core';
import { batchShape, checkOutputs, copyRows, jsonNumbers, type BatchListener } from './batches.ts';

export const BLACK_BOX_PROTOCOL = 'nnid.black-box/v1';

/** Defaults, chosen for a remote paid service: few parallel requests, patient retries. */
export const HTTP_DEFAULTS = {
  concurrency: 4,
  timeoutMs: 30_000,
  retries: 5,
  /** First backoff; doubles with each retry (200, 400, 800, 1600, 3200 ms), capped at maxBackoffMs. */
  backoffMs: 200,
  maxBackoffMs: 10_000,
  /** A Retry-After longer than this is not waited for: the batch fails instead. */
  maxRetryAfterMs: 60_000,
  /** Rows per request unless the server announces a smaller maxBatch. */
  batchSize: 1024,
} as const;

export interface RetryEvent {
  /** 1 for the first retry. */
  attempt: number;
  /** HTTP status, or the connection error's code (ECONNREFUSED, ETIMEDOUT, ...). */
  reason: string;
  /** How long the client waits before the retry. */
  delayMs: number;
  /** Rows [first, last] of the caller's batch that the request carries (-1, -1 for the GET). */
  rows: [number, number];
}

export interface HttpBlackBoxOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Per attempt (default 30 000 ms); a timed-out attempt is retried like a connection error. */
  timeoutMs?: number;
  /** Retries per request after the first attempt (default 5). */
  retries?: number;
  /** First backoff in ms (default 200), doubled per retry. */
  backoffMs?: number;
  /** Rows per request (default 1024, lowered to the server's maxBatch). */
  batchSize?: number;
  /**
   * The input dimension. When omitted, the server's GET description must announce it; when
   * given and the server announces another, E_DIMENSION_MISMATCH.
   */
  inputDim?: number;
  /** Overrides the identity that keys the query store (default: see httpBlackBox). */
  identity?: string;
  /** Called as each request's answers arrive (see BatchListener). */
  onBatch?: BatchListener;
  /** Called before each retry (for logs and tests). */
  onRetry?: (event: RetryEvent) => void;
}

export interface HttpBlackBox extends BlackBox {
  readonly url: string;
  readonly batchSize: number;
  /** The server's GET description, when it gave one. */
  readonly description: ServerDescription | undefined;
  close(): Promise<void>;
}

export interface ServerDescription {
  format?: string;
  inputDim?: number;
  maxBatch?: number;
  identity?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The connection-level reason of a failed fetch (ECONNREFUSED, ECONNRESET, timeout, ...). */
function connectionReason(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return 'timeout';
  if (err?.name === 'AbortError') return 'aborted';
  // undici's name for a socket the server closed while the request was on it.
  if (err?.cause?.code === 'UND_ERR_SOCKET') return 'closed by the server';
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
}

/** The server's message from an error body: its `error` field, or the text itself (shortened). */
function serverMessage(text: string): string {
  try {
    const json = JSON.parse(text) as { error?: unknown };
    if (json && typeof json.error === 'string') return json.error;
  } catch {
    // not JSON: show the text
  }
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat || '(empty body)';
}

/** A status the server answered that is not retried (4xx other than 429): E_ORACLE with the status. */
export class OracleHttpError extends NnidError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(ErrorCodes.oracle, message);
  }
}

class Permanent extends Error {
  constructor(readonly error: NnidError) {
    super(error.message);
  }
}

interface Transport {
  url: string;
  token?: string;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  onRetry?: (event: RetryEvent) => void;
}

/**
 * One request with the retry policy: retried on connection errors, timeouts, 5xx and 429
 * (waiting Retry-After when the server sends one), not on other statuses. Resolves to the body
 * text of a 2xx answer; throws NnidError (E_ORACLE for a 4xx, E_ORACLE_UNAVAILABLE when the
 * retries are spent).
 */
async function request(t: Transport, method: 'GET' | 'POST', body: string | undefined, rows: [number, number], what: string): Promise<string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (t.token) headers.authorization = `Bearer ${t.token}`;
  let last = '';
  for (let attempt = 0; ; attempt++) {
    let delay = Math.min(HTTP_DEFAULTS.maxBackoffMs, t.backoffMs * 2 ** attempt);
    try {
      const response = await fetch(t.url, { method, headers, body, signal: AbortSignal.timeout(t.timeoutMs) });
      const text = await response.text();
      if (response.ok) return text;
      const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      last = `${status}: ${serverMessage(text)}`;
      if (response.status === 429 || response.status >= 500) {
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
        if (retryAfter !== undefined) {
          if (retryAfter > HTTP_DEFAULTS.maxRetryAfterMs) {
            throw new Permanent(
              new NnidError(
                ErrorCodes.oracleUnavailable,
                `${t.url} ${what}: ${last}; it asks to retry after ${Math.round(retryAfter / 1000)} s, more than the ${HTTP_DEFAULTS.maxRetryAfterMs / 1000} s this client waits`,
              ),
            );
          }
          delay = retryAfter;
        }
      } else {
        const hint = response.status === 401 || response.status === 403 ? ' (check the token: --oracle-token or NNID_ORACLE_TOKEN)' : '';
        throw new Permanent(new OracleHttpError(response.status, `${t.url} ${what}: ${last}${hint}`));
      }
    } catch (e) {
      if (e instanceof Permanent) throw e.error;
      last = `connection failed (${connectionReason(e)})`;
    }
    if (attempt >= t.retries) {
      throw new NnidError(ErrorCodes.oracleUnavailable, `${t.url} ${what}: ${last}, after ${t.retries} ${t.retries === 1 ? 'retry' : 'retries'}`);
    }
    t.onRetry?.({ attempt: attempt + 1, reason: last, delayMs: delay, rows });
    await sleep(delay);
  }
}

function parseJson(url: string, text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const flat = text.length > 60 ? `${text.slice(0, 57)}...` : text;
    throw new NnidError(ErrorCodes.oracleOutput, `${url} ${what}: the answer is not JSON: ${JSON.stringify(flat)}`);
  }
}

/**
 * An HTTP endpoint as a BlackBox. Opening it asks the server for its description (GET) with
 * the same retry policy; a server that has none (404 or 405 on GET) is accepted when `inputDim`
 * is given. Batches are split into requests of `batchSize` rows, at most `concurrency` in flight.
 *
 * Identity (keys the query store): `options.identity`, else `http:` + the identity the server
 * announces (so a restarted server on another port shares its stored answers), else `http:` +
 * the URL.
 *
 * Numbers travel as JSON: JavaScript writes a double with the shortest digits that read back to
 * the same double, so inputs and outputs cross exactly (-0 is written "-0" and survives too).
 *
 * When a request fails for good, no new request is started, the ones in flight finish (their
 * answers reach `onBatch`), and `evaluate` rejects with E_ORACLE_UNAVAILABLE (retries spent),
 * E_ORACLE (a 4xx, not retried, naming the status and the server's message) or
 * E_ORACLE_OUTPUT (a bad answer, naming the row).
 *
 * @example
 * const box = await httpBlackBox('https://models.example.com/f', { token: process.env.NNID_ORACLE_TOKEN });
 * const values = await box.evaluate(points);
 */
export async function httpBlackBox(url: string, options: HttpBlackBoxOptions = {}): Promise<HttpBlackBox> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return invalidArgument('url', 'must be an http:// or https:// URL', url);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') invalidArgument('url', 'must be an http:// or https:// URL', url);
  const concurrency = checkInteger('concurrency', options.concurrency ?? HTTP_DEFAULTS.concurrency);
  const transport: Transport = {
    url,
    token: options.token,
    timeoutMs: checkInteger('timeoutMs', options.timeoutMs ?? HTTP_DEFAULTS.timeoutMs),
    retries: checkInteger('retries', options.retries ?? HTTP_DEFAULTS.retries, 0),
    backoffMs: checkInteger('backoffMs', options.backoffMs ?? HTTP_DEFAULTS.backoffMs, 0),
    onRetry: options.onRetry,
  };
  let batchSize = checkInteger('batchSize', options.batchSize ?? HTTP_DEFAULTS.batchSize);
  if (options.inputDim !== undefined) checkInteger('inputDim', options.inputDim);

  let description: ServerDescription | undefined;
  try {
    const text = await request(transport, 'GET', undefined, [-1, -1], 'description (GET)');
    const json = parseJson(url, text, 'description (GET)');
    if (json && typeof json === 'object' && !Array.isArray(json)) description = json as ServerDescription;
  } catch (e) {
    // A server without a description (404/405 on GET): fine when the caller knows the dimension.
    if (!(e instanceof OracleHttpError && (e.status === 404 || e.status === 405) && options.inputDim !== undefined)) throw e;
  }
  const announced = description?.inputDim;
  if (announced !== undefined && !(Number.isInteger(announced) && announced > 0)) {
    throw new NnidError(ErrorCodes.oracleOutput, `${url} description (GET): inputDim is ${JSON.stringify(announced)}, expected a positive integer`);
  }
  let inputDim: number;
  if (announced !== undefined) {
    if (options.inputDim !== undefined && options.inputDim !== announced) {
      throw new NnidError(ErrorCodes.dimensionMismatch, `${url} takes inputs of dimension ${announced}, but inputDim = ${options.inputDim} was requested`);
    }
    inputDim = announced;
  } else if (options.inputDim !== undefined) {
    inputDim = options.inputDim;
  } else {
    throw new NnidError(ErrorCodes.invalidArgument, `${url} does not announce its inputDim (GET answers no { "inputDim": d }): pass inputDim`);
  }
  const maxBatch = description?.maxBatch;
  if (typeof maxBatch === 'number' && Number.isInteger(maxBatch) && maxBatch > 0) batchSize = Math.min(batchSize, maxBatch);
  const identity =
    options.identity ?? (typeof description?.identity === 'string' && description.identity ? `http:${description.identity}` : `http:${parsed.href}`);
  const source = url;

  async function evaluateOne(inputs: Float64View, start: number, end: number, rowStride: number, colStride: number): Promise<Float64Array> {
    const dense = copyRows(inputs, inputDim, start, end, rowStride, colStride);
    const parts: string[] = [];
    for (let r = 0; r < end - start; r++) parts.push(jsonNumbers(dense, r * inputDim, (r + 1) * inputDim));
    const what = `rows ${start}–${end - 1}`;
    const text = await request(transport, 'POST', `{"inputs":[${parts.join(',')}]}`, [start, end - 1], what);
    const json = parseJson(url, text, what) as { outputs?: unknown } | null;
    const outputs = json && typeof json === 'object' ? json.outputs : undefined;
    if (!Array.isArray(outputs)) {
      throw new NnidError(ErrorCodes.oracleOutput, `${source} answered no \`outputs\` array for rows ${start}–${end - 1}`);
    }
    const values = checkOutputs(source, outputs, end - start, start);
    if (options.onBatch) await options.onBatch({ data: dense, offset: 0, shape: [end - start, inputDim], strides: [inputDim, 1] }, values);
    return values;
  }

  async function evaluate(inputs: Float64View): Promise<Float64Array> {
    const { rows, rowStride, colStride } = batchShape(inputs, inputDim, source);
    const out = new Float64Array(rows);
    let next = 0;
    let failure: unknown;
    // `concurrency` lanes each take the next sub-batch until none is left or one has failed.
    const lane = async () => {
      while (failure === undefined && next < rows) {
        const start = next;
        const end = Math.min(rows, start + batchSize);
        next = end;
        try {
          out.set(await evaluateOne(inputs, start, end, rowStride, colStride), start);
        } catch (e) {
          failure ??= e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.ceil(rows / batchSize)) }, lane));
    if (failure !== undefined) throw failure;
    return out;
  }

  return {
    inputDim,
    identity,
    url,
    batchSize,
    description,
    evaluate,
    close: async () => {},
  };
}
