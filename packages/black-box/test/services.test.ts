/**
 * Services the project did not write: a plain POST-only Python server, statuses a retry cannot
 * cure, TLS certificates, credentials that must never be printed, ports fetch refuses, a server
 * that never answers. Every server runs on 127.0.0.1 and is stopped after its test.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { serializeNetwork } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { httpBlackBox, OracleHttpError, redactUrl, serveNetwork, type RetryEvent } from '../src/index.ts';
import { gaussianPoints, json, pythonPostOnlyServer, scriptedServer } from './helpers.ts';
import { rejection } from '@nnid/testing';

const dir = mkdtempSync(join(tmpdir(), 'nnid-services-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

const net = randomNetwork({ inputDim: 6, width1: 4, width2: 2, activation: 'tanh', seed: 31 });
const netFile = join(dir, 'net.json');
writeFileSync(netFile, JSON.stringify(serializeNetwork(net)));

async function scripted(handler: Parameters<typeof scriptedServer>[0]) {
  const server = await scriptedServer(handler);
  closers.push(() => server.close());
  return server;
}

const rowSums = (body: any) => ({ outputs: body.inputs.map((r: number[]) => r.reduce((a, b) => a + b, 0)) });

describe('a plain POST-only server (Python http.server: GET 501, answers [n, 1])', () => {
  it('needs inputDim, then answers as the network; a bare NaN from json.dumps is named', async (ctx) => {
    const server = await pythonPostOnlyServer(netFile);
    if (!server) return ctx.skip('python3 is not installed');
    closers.push(() => server.close());
    const e = await rejection(httpBlackBox(server.url));
    expect([e.code, e.message]).toEqual([
      'E_INVALID_ARGUMENT',
      `${server.url} does not announce its input dimension (GET answered HTTP 501): pass it (--input-dim D; inputDim in the API)`,
    ]);
    const box = await httpBlackBox(server.url, { inputDim: 6, batchSize: 40 });
    closers.push(() => box.close());
    expect(box.identity).toBe(`http:${server.url}`);
    const X = gaussianPoints(100, 6, 3);
    const got = await box.evaluate(X);
    const ref = evaluateNetwork(net, X);
    // Python's math.tanh and the sums' order may differ from ours by an ulp or two.
    for (let i = 0; i < 100; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThan(1e-14);

    const nan = await pythonPostOnlyServer(netFile, ['--nan-above', '1']);
    closers.push(() => nan!.close());
    const nanBox = await httpBlackBox(nan!.url, { inputDim: 6 });
    closers.push(() => nanBox.close());
    const bad = await rejection(nanBox.evaluate(X));
    expect([bad.code, bad.message]).toEqual([
      'E_ORACLE_OUTPUT',
      `${nan!.url} rows 0–99: the answer is not valid JSON: it holds a bare NaN (JSON has no NaN: the service's model answered a non-finite number)`,
    ]);
  }, 30_000);
});

describe('a server whose GET answers a page, not a description', () => {
  it('needs inputDim, and says so; with it, answers', async () => {
    const server = await scripted((_i, method, body, res) => {
      if (method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<html><body>model server</body></html>');
      }
      json(res, 200, rowSums(body));
    });
    const e = await rejection(httpBlackBox(server.url));
    expect([e.code, e.message]).toEqual([
      'E_INVALID_ARGUMENT',
      `${server.url} does not announce its input dimension (GET answered no JSON description): pass it (--input-dim D; inputDim in the API)`,
    ]);
    const box = await httpBlackBox(server.url, { inputDim: 2 });
    expect(Array.from(await box.evaluate({ data: Float64Array.of(1, 2), offset: 0, shape: [1, 2], strides: [2, 1] }))).toEqual([3]);
    await box.close();
  });
});

describe('retry only what a retry can cure', () => {
  /** A described server whose POSTs answer `status` the first `failures` times. */
  async function failing(status: number, failures: number) {
    let posts = 0;
    const server = await scripted((_i, method, body, res) => {
      if (method === 'GET') return json(res, 200, { inputDim: 2 });
      if (posts++ < failures) return json(res, status, { error: `status ${status}` });
      json(res, 200, rowSums(body));
    });
    return { server, posts: () => posts };
  }

  for (const status of [400, 404, 405, 422, 501, 505]) {
    it(`HTTP ${status} fails at once`, async () => {
      const { server, posts } = await failing(status, 10);
      const retries: RetryEvent[] = [];
      const box = await httpBlackBox(server.url, { backoffMs: 1, onRetry: (r) => retries.push(r) });
      const e = await rejection(box.evaluate(gaussianPoints(2, 2, 1)));
      expect(e).toBeInstanceOf(OracleHttpError);
      expect([e.code, (e as OracleHttpError).status]).toEqual(['E_ORACLE', status]);
      expect(e.message).toMatch(new RegExp(`^${server.url} rows 0–1: HTTP ${status} [A-Za-z ]+: status ${status}`));
      expect([posts(), retries.length]).toEqual([1, 0]);
    });
  }

  for (const status of [429, 502, 503, 504]) {
    it(`HTTP ${status} is retried (five times by default)`, async () => {
      const { server, posts } = await failing(status, 5);
      const box = await httpBlackBox(server.url, { backoffMs: 1 });
      expect(Array.from(await box.evaluate({ data: Float64Array.of(1, 2), offset: 0, shape: [1, 2], strides: [2, 1] }))).toEqual([3]);
      expect(posts()).toBe(6);
    });
  }

  it('HTTP 500 is retried twice, then fails', async () => {
    const { server, posts } = await failing(500, 10);
    const box = await httpBlackBox(server.url, { backoffMs: 1 });
    const e = await rejection(box.evaluate(gaussianPoints(2, 2, 1)));
    expect([e.code, e.message]).toEqual(['E_ORACLE_UNAVAILABLE', `${server.url} rows 0–1: HTTP 500 Internal Server Error: status 500, after 2 retries`]);
    expect(posts()).toBe(3);
    const twice = await failing(500, 2);
    const ok = await httpBlackBox(twice.server.url, { backoffMs: 1 });
    expect((await ok.evaluate(gaussianPoints(2, 2, 1))).length).toBe(2);
  });

  it('a TLS certificate the client does not trust fails at once, before any request reaches the server', async () => {
    let requests = 0;
    const server = createHttpsServer(
      { key: readFileSync(new URL('./fixtures/self-signed-key.pem', import.meta.url)), cert: readFileSync(new URL('./fixtures/self-signed-cert.pem', import.meta.url)) },
      (_req, res) => {
        requests++;
        json(res, 200, { inputDim: 2 });
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const retries: RetryEvent[] = [];
    const e = await rejection(httpBlackBox(url, { onRetry: (r) => retries.push(r) }));
    expect([e.code, e.message]).toEqual([
      'E_ORACLE',
      `${url} description (GET): TLS certificate not trusted (DEPTH_ZERO_SELF_SIGNED_CERT); a private CA can be added with the NODE_EXTRA_CA_CERTS variable`,
    ]);
    expect([requests, retries.length]).toEqual([0, 0]);
  });

  it('a server that never answers fails within the timeout, at opening as at evaluating', async () => {
    const server = await scripted(() => {});
    const started = Date.now();
    const e = await rejection(httpBlackBox(server.url, { timeoutMs: 300 }));
    expect([e.code, e.message]).toEqual(['E_ORACLE_UNAVAILABLE', `${server.url} description (GET): no answer within the timeout of 0.3 s; raise it with --timeout (timeoutMs)`]);
    // 0.3 s plus scheduling; the old client took 6 attempts x 30 s.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('credentials are never printed', () => {
  it('user:password@ in the URL goes as Basic auth; neither it, a secret query parameter nor the token shows in a message or the identity', async () => {
    const seen: string[] = [];
    const server = await scripted((_i, method, body, res, req) => {
      seen.push(String(req.headers.authorization));
      if (method === 'GET') return json(res, 200, { inputDim: 2 });
      if (body.inputs.length > 1) return json(res, 403, { error: 'token s3cr3t-tok is not valid for user alice (password pa55word)' });
      json(res, 200, rowSums(body));
    });
    const url = `http://alice:pa55word@127.0.0.1:${server.port}/v1/predict?api_key=k3yk3y&model=v2`;
    const shown = `http://***@127.0.0.1:${server.port}/v1/predict?api_key=***&model=v2`;
    expect(redactUrl(url)).toBe(shown);
    const box = await httpBlackBox(url, { token: 's3cr3t-tok' });
    expect(box.identity).toBe(`http:${shown}`);
    expect(box.shownUrl).toBe(shown);
    expect((await box.evaluate(gaussianPoints(1, 2, 1))).length).toBe(1);
    const e = await rejection(box.evaluate(gaussianPoints(2, 2, 1)));
    expect(e.message).toBe(`${shown} rows 0–1: HTTP 403 Forbidden: token *** is not valid for user *** (password ***) (check the token: --oracle-token or NNID_ORACLE_TOKEN)`);
    expect(seen[0]).toBe('Bearer s3cr3t-tok');
    // node:http sends the URL's user:password as Basic auth unless an authorization header is set:
    // here the bearer token wins, as it should.
    const basic = await httpBlackBox(url.replace('?api_key=k3yk3y&', '?'));
    await basic.evaluate(gaussianPoints(1, 2, 2));
    expect(seen.at(-1)).toBe(`Basic ${Buffer.from('alice:pa55word').toString('base64')}`);
    await box.close();
    await basic.close();
  });

  it('a malformed token or URL fails at once without showing the secret', async () => {
    let e = await rejection(httpBlackBox('http://127.0.0.1:9/', { token: 'abc-secret\n' }));
    expect([e.code, e.message]).toEqual([
      'E_INVALID_ARGUMENT',
      'invalid argument. `token` must be visible ASCII characters without spaces (it is sent as an HTTP header). Value: (hidden; 11 characters, character 11 is a newline).',
    ]);
    e = await rejection(httpBlackBox('http://bob:hunter22@[::1/'));
    expect(e.message).toBe('invalid argument. `url` must be an http:// or https:// URL. Value: `http://***@[::1/`.');
    e = await rejection(httpBlackBox('ftp://bob:hunter22@example.com/'));
    expect(e.message).toBe('invalid argument. `url` must be an http:// or https:// URL. Value: `ftp://***@example.com/`.');
  });
});

describe('ports that fetch refuses', () => {
  it('a server on one of undici\'s "bad ports" answers as on any other', async (ctx) => {
    const badPorts = [6000, 6665, 6666, 6667, 6668, 6669, 10080, 5060, 6697, 4190];
    let served: Awaited<ReturnType<typeof serveNetwork>> | undefined;
    for (const port of badPorts) {
      served = await serveNetwork(net, { port }).catch(() => undefined);
      if (served) break;
    }
    if (!served) return ctx.skip(`every port of ${badPorts.join(', ')} is taken`);
    closers.push(() => served!.close());
    // What fetch does with it (the reason the client uses node:http).
    await expect(fetch(served.url)).rejects.toThrow('fetch failed');
    const box = await httpBlackBox(served.url);
    const X = gaussianPoints(20, 6, 4);
    expect(Array.from(await box.evaluate(X))).toEqual(Array.from(evaluateNetwork(net, X)));
    await box.close();
  });
});
