import { afterEach, describe, expect, it } from 'vitest';
import { evaluateNetwork, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { httpBlackBox, OracleHttpError, serveNetwork, type RetryEvent } from '../src/index.ts';
import { parseRetryAfter } from '../src/request.ts';
import { closedPort, gaussianPoints, json, scriptedServer } from './helpers.ts';
import { rejection } from '@nnid/testing';

const net = randomNetwork({ inputDim: 12, width1: 6, width2: 3, activation: 'tanh', seed: 11 });
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function serve(options: Parameters<typeof serveNetwork>[1] = { port: 0 }) {
  const served = await serveNetwork(net, options);
  closers.push(() => served.close());
  return served;
}

async function scripted(handler: Parameters<typeof scriptedServer>[0]) {
  const server = await scriptedServer(handler);
  closers.push(() => server.close());
  return server;
}

/** Answers GET with a description of dimension d and POST with sum of each row (or what `post` says). */
function describedBy(d: number, post: (index: number, body: any, res: any) => void) {
  let posts = 0;
  return (_i: number, method: string, body: any, res: any) => {
    if (method === 'GET') return json(res, 200, { format: 'nnid.black-box/v1', inputDim: d });
    post(posts++, body, res);
  };
}

const rowSums = (body: any) => ({ outputs: body.inputs.map((r: number[]) => r.reduce((a, b) => a + b, 0)) });

describe('serveNetwork + httpBlackBox', () => {
  it('answers bit for bit as the in-process network (JSON carries doubles exactly), with and without noise', async () => {
    const served = await serve({ port: 0, maxBatch: 100 });
    const box = await httpBlackBox(served.url, { batchSize: 64, concurrency: 3 });
    expect(box.inputDim).toBe(12);
    expect(box.batchSize).toBe(64);
    expect(box.identity).toBe(`http:${networkBlackBox(net).identity}`);
    const X = gaussianPoints(1000, 12, 5);
    // Extreme magnitudes too: subnormal, huge, negative zero.
    X.data[0] = 5e-324;
    X.data[1] = 1.7976931348623157e308 / 1e300;
    X.data[2] = -0;
    X.data[3] = 0.1 + 0.2;
    const got = await box.evaluate(X);
    const ref = evaluateNetwork(net, X);
    expect(Array.from(got)).toEqual(Array.from(ref));
    expect(served.rowsAnswered()).toBe(1000);

    // Regression: JSON.stringify writes -0 as 0, which moved row 0 to another noise stream.
    const noisy = await serve({ port: 0, noise: 1e-3, noiseSeed: 9 });
    const noisyBox = await httpBlackBox(noisy.url);
    expect(Array.from(await noisyBox.evaluate(X))).toEqual(Array.from(await networkBlackBox(net, { noise: 1e-3, noiseSeed: 9 }).evaluate(X)));
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const server = await scripted(
      describedBy(2, (_i, body, res) => {
        inFlight++;
        most = Math.max(most, inFlight);
        setTimeout(() => {
          inFlight--;
          json(res, 200, rowSums(body));
        }, 15);
      }),
    );
    const box = await httpBlackBox(server.url, { batchSize: 2, concurrency: 3 });
    const X = gaussianPoints(20, 2, 1);
    const got = await box.evaluate(X);
    expect(most).toBe(3);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(10);
    for (let i = 0; i < 20; i++) expect(got[i]).toBe(X.data[2 * i] + X.data[2 * i + 1]);
  });

  it('sends the bearer token; a missing or wrong token is answered 401 and not retried', async () => {
    const served = await serve({ port: 0, token: 's3cret' });
    const retries: RetryEvent[] = [];
    let e = await rejection(httpBlackBox(served.url, { onRetry: (r) => retries.push(r) }));
    expect(e.code).toBe('E_ORACLE');
    expect(e.message).toBe(
      `${served.url} description (GET): HTTP 401 Unauthorized: missing bearer token (send Authorization: Bearer <token>) (check the token: --oracle-token or NNID_ORACLE_TOKEN)`,
    );
    e = await rejection(httpBlackBox(served.url, { token: 'guess', onRetry: (r) => retries.push(r) }));
    expect(e.message).toBe(`${served.url} description (GET): HTTP 401 Unauthorized: wrong bearer token (check the token: --oracle-token or NNID_ORACLE_TOKEN)`);
    expect(retries).toEqual([]);
    const box = await httpBlackBox(served.url, { token: 's3cret' });
    expect((await box.evaluate(gaussianPoints(3, 12, 1))).length).toBe(3);
    // Raw requests: POST without and with a wrong token.
    const body = JSON.stringify({ inputs: [new Array(12).fill(0)] });
    const noToken = await fetch(served.url, { method: 'POST', body });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await fetch(served.url, { method: 'POST', body, headers: { authorization: 'Bearer s3cre' } });
    expect([wrong.status, await wrong.json()]).toEqual([401, { error: 'wrong bearer token' }]);
  });
});

describe('the server rejects bad requests with clear 4xx answers', () => {
  it('404, 405, 400 malformed JSON, 400 no inputs, 400 wrong row length or entry, 413 too many rows, 413 oversize body', async () => {
    const served = await serve({ port: 0, maxBatch: 4 });
    const post = async (body: string, path = '') => {
      const r = await fetch(served.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      return [r.status, await r.json()];
    };
    const row = (n: number) => new Array(n).fill(0.5);
    expect(await post('{}', 'other')).toEqual([404, { error: 'no such path: /other (the black box is at /)' }]);
    const put = await fetch(served.url, { method: 'PUT', body: '{}' });
    expect([put.status, put.headers.get('allow'), await put.json()]).toEqual([405, 'GET, POST', { error: 'method PUT not allowed: GET for the description, POST for answers' }]);
    expect(await post('{"inputs": [[1, 2,')).toEqual([400, { error: expect.stringMatching(/^malformed JSON: /) }]);
    expect(await post('[1, 2]')).toEqual([400, { error: 'expected a JSON object { "inputs": [[...], ...] }' }]);
    expect(await post(JSON.stringify({ inputs: [row(12), row(11)] }))).toEqual([400, { error: 'row 1 has 11 numbers, expected inputDim = 12' }]);
    expect(await post(JSON.stringify({ inputs: [row(12), 3] }))).toEqual([400, { error: 'row 1 is 3, expected an array of 12 numbers' }]);
    expect(await post(JSON.stringify({ inputs: [[...row(11), null]] }))).toEqual([400, { error: 'row 0, entry 11 is null, expected a finite number' }]);
    expect(await post(JSON.stringify({ inputs: [row(12), row(12), row(12), row(12), row(12)] }))).toEqual([
      413,
      { error: 'too many rows: 5, maxBatch = 4; split the batch' },
    ]);
    const limit = 4 * (12 * 25 + 8) + 1024;
    expect(await post(`{"inputs": [[${'0'.padEnd(limit, ' ')}]]}`)).toEqual([
      413,
      { error: `request body of ${limit + 16} bytes exceeds the limit of ${limit} bytes (maxBatch = 4 rows of 12 numbers)` },
    ]);
    const get = await fetch(served.url);
    expect(await get.json()).toEqual({ format: 'nnid.black-box/v1', inputDim: 12, maxBatch: 4, identity: networkBlackBox(net).identity, outputs: 1 });
    // The client splits its batches to the announced maxBatch.
    const box = await httpBlackBox(served.url, { batchSize: 100 });
    expect(box.batchSize).toBe(4);
    expect((await box.evaluate(gaussianPoints(10, 12, 2))).length).toBe(10);
  });
});

describe('retries', () => {
  it('retries 503 twice then succeeds', async () => {
    const server = await scripted(
      describedBy(2, (i, body, res) => (i < 2 ? json(res, 503, { error: 'warming up' }) : json(res, 200, rowSums(body)))),
    );
    const retries: RetryEvent[] = [];
    const box = await httpBlackBox(server.url, { backoffMs: 10, onRetry: (r) => retries.push(r) });
    const got = await box.evaluate(gaussianPoints(3, 2, 1));
    expect(got.length).toBe(3);
    expect(retries).toEqual([
      { attempt: 1, reason: 'HTTP 503 Service Unavailable: warming up', delayMs: 10, rows: [0, 2] },
      { attempt: 2, reason: 'HTTP 503 Service Unavailable: warming up', delayMs: 20, rows: [0, 2] },
    ]);
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'POST', 'POST']);
  });

  it('honours Retry-After on 429', async () => {
    const server = await scripted(
      describedBy(2, (i, body, res) => (i === 0 ? json(res, 429, { error: 'slow down' }, { 'retry-after': '1' }) : json(res, 200, rowSums(body)))),
    );
    const retries: RetryEvent[] = [];
    const box = await httpBlackBox(server.url, { backoffMs: 10, onRetry: (r) => retries.push(r) });
    const started = Date.now();
    await box.evaluate(gaussianPoints(2, 2, 1));
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(retries).toEqual([{ attempt: 1, reason: 'HTTP 429 Too Many Requests: slow down', delayMs: 1000, rows: [0, 1] }]);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('fails at once when Retry-After asks to wait beyond the timeout', async () => {
    const server = await scripted(describedBy(2, (_i, _body, res) => json(res, 503, { error: 'maintenance' }, { 'retry-after': '3600' })));
    const box = await httpBlackBox(server.url, { backoffMs: 10 });
    const e = await rejection(box.evaluate(gaussianPoints(2, 2, 1)));
    expect([e.code, e.message]).toEqual([
      'E_ORACLE_UNAVAILABLE',
      `${server.url} rows 0–1: HTTP 503 Service Unavailable: maintenance; it asks to retry after 3600 s, beyond the timeout of 30 s (--timeout)`,
    ]);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('does not retry a 400, and names the status and the server message', async () => {
    const server = await scripted(describedBy(2, (_i, _body, res) => json(res, 400, { error: 'inputs must be at most 1e6 in magnitude' })));
    const box = await httpBlackBox(server.url, { backoffMs: 10 });
    const e = await rejection(box.evaluate(gaussianPoints(5, 2, 1)));
    expect(e.code).toBe('E_ORACLE');
    expect(e.message).toBe(`${server.url} rows 0–4: HTTP 400 Bad Request: inputs must be at most 1e6 in magnitude`);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('gives up with E_ORACLE_UNAVAILABLE on a refused connection, and after the retries on a 5xx', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/`;
    const retries: RetryEvent[] = [];
    let e = await rejection(httpBlackBox(url, { inputDim: 2, retries: 2, backoffMs: 5, onRetry: (r) => retries.push(r) }));
    expect(e.code).toBe('E_ORACLE_UNAVAILABLE');
    expect(e.message).toBe(`${url} description (GET): connection failed (ECONNREFUSED), after 2 retries`);
    expect(retries.map((r) => r.delayMs)).toEqual([5, 10]);

    const server = await scripted(describedBy(2, (_i, _body, res) => json(res, 502, 'bad gateway')));
    const box = await httpBlackBox(server.url, { retries: 1, backoffMs: 5 });
    e = await rejection(box.evaluate(gaussianPoints(2, 2, 1)));
    expect(e.code).toBe('E_ORACLE_UNAVAILABLE');
    expect(e.message).toBe(`${server.url} rows 0–1: HTTP 502 Bad Gateway: bad gateway, after 1 retry`);
  });

  it('a request that never answers fails when the timeout (retries included) is spent, not retried', async () => {
    const server = await scripted(describedBy(2, () => {}));
    const box = await httpBlackBox(server.url, { timeoutMs: 100, retries: 1, backoffMs: 5 });
    const e = await rejection(box.evaluate(gaussianPoints(2, 2, 1)));
    expect([e.code, e.message]).toEqual(['E_ORACLE_UNAVAILABLE', `${server.url} rows 0–1: no answer within the timeout of 0.1 s; raise it with --timeout (timeoutMs)`]);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });
});

describe('bad answers', () => {
  const cases: [string, (body: any) => unknown, string][] = [
    ['a non-finite output', (b) => ({ outputs: b.inputs.map((_: unknown, i: number) => (i === 2 ? 'Infinity' : 1)) }), 'answered `"Infinity"` for row 2, expected a finite number'],
    ['a missing output (null)', (b) => ({ outputs: b.inputs.map((_: unknown, i: number) => (i === 1 ? null : 1)) }), 'answered `null` for row 1, expected a finite number'],
    ['no outputs at all', () => ({ result: [1, 2, 3] }), 'answered no `outputs` array for rows 0–3'],
    ['the wrong number of outputs', (b) => ({ outputs: b.inputs.slice(1).map(() => 1) }), 'answered 3 outputs for rows 0–3, expected 4'],
    ['a body that is not JSON', () => 'oops', 'rows 0–3: the answer is not JSON: "oops"'],
    ['a bare NaN (what Python\'s json.dumps writes)', () => '{"outputs": [1.5, NaN, 2, 3]}', 'rows 0–3: the answer is not valid JSON: it holds a bare NaN (JSON has no NaN: the service\'s model answered a non-finite number)'],
    ['a row of two outputs', (b) => ({ outputs: b.inputs.map(() => [1, 2]) }), 'answered an array of 2 values for row 0, expected one number (or [number]) per row'],
  ];
  for (const [name, answer, message] of cases) {
    it(`E_ORACLE_OUTPUT for ${name}`, async () => {
      const server = await scripted(describedBy(2, (_i, body, res) => json(res, 200, answer(body))));
      const box = await httpBlackBox(server.url);
      const e = await rejection(box.evaluate(gaussianPoints(4, 2, 1)));
      expect(e.code).toBe('E_ORACLE_OUTPUT');
      expect(e.message).toBe(`${server.url} ${message}`);
    });
  }

  it('names the row in the caller batch, not in the request', async () => {
    const server = await scripted(describedBy(2, (i, body, res) => json(res, 200, { outputs: body.inputs.map((_: unknown, k: number) => (i === 2 && k === 1 ? null : 0)) })));
    const box = await httpBlackBox(server.url, { batchSize: 3, concurrency: 1 });
    const e = await rejection(box.evaluate(gaussianPoints(12, 2, 1)));
    expect(e.message).toBe(`${server.url} answered \`null\` for row 7, expected a finite number`);
  });

  it('E_DIMENSION_MISMATCH when the server announces another dimension; inputDim required when it announces none', async () => {
    const served = await serve({ port: 0 });
    let e = await rejection(httpBlackBox(served.url, { inputDim: 13 }));
    expect([e.code, e.message]).toEqual(['E_DIMENSION_MISMATCH', `${served.url} takes inputs of dimension 12, but inputDim = 13 was requested`]);
    const bare = await scripted((_i, method, body, res) => (method === 'GET' ? json(res, 404, { error: 'POST only' }) : json(res, 200, rowSums(body))));
    e = await rejection(httpBlackBox(bare.url));
    expect([e.code, e.message]).toEqual([
      'E_INVALID_ARGUMENT',
      `${bare.url} does not announce its input dimension (GET answered HTTP 404): pass it (--input-dim D; inputDim in the API)`,
    ]);
    const box = await httpBlackBox(bare.url, { inputDim: 3 });
    expect(box.identity).toBe(`http:${bare.url}`);
    // A 401 on GET is not "no description": it fails even with inputDim.
    const locked = await serve({ port: 0, token: 't' });
    e = await rejection(httpBlackBox(locked.url, { inputDim: 12 }));
    expect([e.code, (e as OracleHttpError).status]).toEqual(['E_ORACLE', 401]);
    expect(Array.from(await box.evaluate({ data: Float64Array.of(1, 2, 3), offset: 0, shape: [1, 3], strides: [3, 1] }))).toEqual([6]);
    e = await rejection(box.evaluate(gaussianPoints(1, 4, 0)));
    expect([e.code, e.message]).toEqual(['E_DIMENSION_MISMATCH', `${bare.url} takes inputs of dimension 3, but a batch of dimension 4 was given`]);
  });
});
