/**
 * A network served as an HTTP black box (the protocol httpBlackBox speaks), with node:http.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkInteger, checkPositive, invalidArgument, type Float64View, type GeneralNetwork, type Network } from '@nnid/core';
import { evaluateGeneral, generalBlackBox, generalIdentity, networkBlackBox } from '@nnid/oracle';
import { jsonNumbers } from './batches.ts';
import { BLACK_BOX_PROTOCOL } from './http.ts';

export const DEFAULT_MAX_BATCH = 4096;

export interface ServeOptions {
  /** Port; 0 picks a free one (read it from `url`). */
  port: number;
  /** Default 127.0.0.1 (loopback only); 0.0.0.0 to serve other machines. */
  host?: string;
  /** When set, every request must carry `Authorization: Bearer <token>` (else 401). */
  token?: string;
  /** Std of Gaussian noise added to each answer (default 0); depends only on (noiseSeed, x) as in networkBlackBox. */
  noise?: number;
  noiseSeed?: number;
  /** Most rows per request (default 4096); more is answered 413. */
  maxBatch?: number;
  /** Called after each answered request (for logs). */
  onRequest?: (event: RequestEvent) => void;
}

export interface RequestEvent {
  method: string;
  path: string;
  status: number;
  /** Rows answered (0 for errors and GET). */
  rows: number;
  ms: number;
  /** The error message sent, for 4xx. */
  error?: string;
}

export interface ServedNetwork {
  /** `http://host:port/`: GET it for the description, POST batches to it. */
  readonly url: string;
  readonly port: number;
  /** The identity announced to clients (the network black box's identity). */
  readonly identity: string;
  /** Rows answered so far. */
  rowsAnswered(): number;
  /** Stops listening and drops open connections; resolves when the server is closed. */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Longest JSON text of one double ("-1.2345678901234567e-123") plus its comma. */
const CHARS_PER_NUMBER = 25;

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `a string`;
  return typeof v === 'object' ? 'an object' : String(v);
}

/** n rows of k numbers as the JSON text [[y1..yk], ...]. */
function rowsText(values: Float64Array, rows: number, k: number): string {
  const parts: string[] = [];
  for (let r = 0; r < rows; r++) parts.push(jsonNumbers(values, r * k, (r + 1) * k));
  return `[${parts.join(',')}]`;
}

/**
 * Serves `net` over HTTP until `close()`. Answers POST `{"inputs": [[...], ...]}` with
 * `{"outputs": [...]}` and GET with `{ format, inputDim, maxBatch, identity, outputs }`; the path
 * is `/`. A v2 network with k > 1 outputs answers `{"outputs": [[y1, ..., yk], ...]}`; `outputs`
 * announces k (1 for every other network).
 *
 * Rejections (JSON `{ "error": message }`): 404 other paths, 405 other methods, 401 missing or
 * wrong token, 413 a body longer than maxBatch rows can be or more than maxBatch rows, 400
 * malformed JSON, no `inputs` array, a row of the wrong length or a non-number (naming the row).
 *
 * @example
 * const served = await serveNetwork(net, { port: 0 });
 * const box = await httpBlackBox(served.url);
 * await served.close();
 */
export async function serveNetwork(net: Network | GeneralNetwork, options: ServeOptions): Promise<ServedNetwork> {
  const port = checkInteger('port', options.port, 0, 65535);
  const host = options.host ?? '127.0.0.1';
  const maxBatch = checkInteger('maxBatch', options.maxBatch ?? DEFAULT_MAX_BATCH);
  const noise = checkPositive('noise', options.noise ?? 0, true);
  // a general network (nnid.network/v2): no simulated noise; k > 1 outputs answer [[y1..yk], ...] and are announced
  const general = 'W1' in net ? net : null;
  if (general && noise > 0) invalidArgument('noise', 'must be 0 for a general network (nnid.network/v2)', noise);
  const outputs = general ? general.outputs : 1;
  const box =
    general && outputs > 1
      ? { identity: generalIdentity(general), evaluateSync: (x: Float64View) => Float64Array.from(evaluateGeneral(general, x).data) }
      : general
        ? generalBlackBox(general)
        : networkBlackBox(net as Network, { noise, noiseSeed: options.noiseSeed ?? 0 });
  const d = net.inputDim;
  // Room for maxBatch rows of d numbers in any JSON spacing a client is likely to use.
  const maxBodyBytes = maxBatch * (d * CHARS_PER_NUMBER + 8) + 1024;
  const tokenHash = options.token ? sha256(options.token) : undefined;
  // k announced (1 too): a client taking k outputs need not ask a row to learn it
  const description = JSON.stringify({ format: BLACK_BOX_PROTOCOL, inputDim: d, maxBatch, identity: box.identity, outputs });
  let rowsAnswered = 0;

  function checkToken(req: IncomingMessage): void {
    if (!tokenHash) return;
    const header = req.headers.authorization;
    if (!header) throw new HttpError(401, 'missing bearer token (send Authorization: Bearer <token>)');
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // Compare hashes: equal lengths, and the time taken says nothing about the token.
    if (!match || !timingSafeEqual(sha256(match[1].trim()), tokenHash)) throw new HttpError(401, 'wrong bearer token');
  }

  function readBody(req: IncomingMessage): Promise<string> {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      return Promise.reject(new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${maxBodyBytes} bytes (maxBatch = ${maxBatch} rows of ${d} numbers)`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBodyBytes) {
          req.removeAllListeners('data');
          req.resume();
          reject(new HttpError(413, `request body exceeds the limit of ${maxBodyBytes} bytes (maxBatch = ${maxBatch} rows of ${d} numbers)`));
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  function parseInputs(text: string): Float64View {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, `malformed JSON: ${(e as Error).message}`);
    }
    const inputs = (json as { inputs?: unknown } | null)?.inputs;
    if (json === null || typeof json !== 'object' || !Array.isArray(inputs)) {
      throw new HttpError(400, 'expected a JSON object { "inputs": [[...], ...] }');
    }
    if (inputs.length > maxBatch) throw new HttpError(413, `too many rows: ${inputs.length}, maxBatch = ${maxBatch}; split the batch`);
    const data = new Float64Array(inputs.length * d);
    for (let r = 0; r < inputs.length; r++) {
      const row = inputs[r] as unknown;
      if (!Array.isArray(row)) throw new HttpError(400, `row ${r} is ${describeValue(row)}, expected an array of ${d} numbers`);
      if (row.length !== d) throw new HttpError(400, `row ${r} has ${row.length} numbers, expected inputDim = ${d}`);
      for (let j = 0; j < d; j++) {
        const v = row[j] as unknown;
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new HttpError(400, `row ${r}, entry ${j} is ${describeValue(v)}, expected a finite number`);
        data[r * d + j] = v;
      }
    }
    return { data, offset: 0, shape: [inputs.length, d], strides: [d, 1] };
  }

  function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0];
    let rows = 0;
    let status = 200;
    let error: string | undefined;
    try {
      if (path !== '/') throw new HttpError(404, `no such path: ${path} (the black box is at /)`);
      if (req.method !== 'GET' && req.method !== 'POST') throw new HttpError(405, `method ${req.method} not allowed: GET for the description, POST for answers`);
      checkToken(req);
      if (req.method === 'GET') {
        send(res, 200, description);
      } else {
        const inputs = parseInputs(await readBody(req));
        const answers = box.evaluateSync(inputs);
        rows = inputs.shape[0];
        send(res, 200, `{"outputs":${outputs > 1 ? rowsText(answers, rows, outputs) : jsonNumbers(answers)}}`);
        rowsAnswered += rows;
      }
    } catch (e) {
      status = e instanceof HttpError ? e.status : 500;
      error = e instanceof HttpError ? e.message : `internal error: ${(e as Error).message}`;
      const headers: Record<string, string> = {};
      if (status === 405) headers.allow = 'GET, POST';
      if (status === 401) headers['www-authenticate'] = 'Bearer';
      // After a rejected body, close the connection: the rest of the body is not read.
      if (status === 413) headers.connection = 'close';
      send(res, status, JSON.stringify({ error }), headers);
    }
    options.onRequest?.({ method: req.method ?? '', path, status, rows, ms: performance.now() - started, error });
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}/`,
    port: address.port,
    identity: box.identity,
    rowsAnswered: () => rowsAnswered,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
