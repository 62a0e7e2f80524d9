/**
 * `nnid serve`: a network as an HTTP black box (the protocol of @nnid/black-box), until SIGINT/SIGTERM.
 */
import { readNetworkAny } from '@nnid/core';
import { DEFAULT_MAX_BATCH, serveNetwork, type RequestEvent } from '@nnid/black-box';
import { intOption, numberOption, stringOption, UsageError, type Command, type Values } from '../cli.ts';

const help = `usage: nnid serve --network net.json --port P [options]

Serves the network as an HTTP black box until Ctrl-C (SIGINT) or SIGTERM:
  GET  /   ->  { "format": "nnid.black-box/v1", "inputDim": d, "maxBatch": N, "identity": "..." }
  POST /   { "inputs": [[...d numbers], ...] }  ->  { "outputs": [...] }
A v2 network with k > 1 outputs answers { "outputs": [[y1, ..., yk], ...] } and announces
"outputs": k in its description (nnid identify --oracle takes it as a black box of k outputs).
Bad requests get a 4xx answer { "error": "..." }: 400 malformed JSON or wrong dimensions (naming
the row), 401 missing or wrong token, 404/405 other paths and methods, 413 more than --max-batch
rows or a body larger than they can be.

options:
  --network FILE       the network (nnid.network/v1, or v2 with k >= 1 outputs: served exactly, no --noise)
  --port P             port to listen on; 0 picks a free one (printed)
  --host H             address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for all)
  --token T            require "Authorization: Bearer T" on every request
  --noise S            add Gaussian noise of std S to each answer (default 0), seeded by --noise-seed
  --noise-seed N       seed of the noise (default 0); the noise of a query depends only on it and x
  --max-batch N        most rows per request (default ${DEFAULT_MAX_BATCH})
  --log                print one line per request on stderr
  -h, --help           this help

example:
  nnid serve --network net.json --port 8080 --token s3cret
  nnid identify --oracle http://127.0.0.1:8080/ --oracle-token s3cret ...`;

/** `received` resolves on the first SIGINT or SIGTERM; `dispose` removes the handlers. */
function watchSignals(): { received: Promise<string>; dispose: () => void } {
  let dispose = () => {};
  const received = new Promise<string>((resolve) => {
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    dispose = () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };
    const stop = (signal: string) => {
      dispose();
      resolve(signal);
    };
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  return { received, dispose };
}

export const command: Command = {
  name: 'serve',
  summary: 'serve a network as an HTTP black box (POST {"inputs": [[...]]} -> {"outputs": [...]})',
  help,
  options: {
    network: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    token: { type: 'string' },
    noise: { type: 'string' },
    'noise-seed': { type: 'string' },
    'max-batch': { type: 'string' },
    log: { type: 'boolean' },
  },
  async run(values: Values, io) {
    const file = stringOption(values, 'network');
    const port = intOption(values, 'port', undefined, 0);
    if (port > 65535) throw new UsageError(`--port must be an integer in [0, 65535], got '${port}'`);
    const host = stringOption(values, 'host', '127.0.0.1');
    const token = values.token as string | undefined;
    if (token !== undefined && token.trim() === '') throw new UsageError('--token must not be empty');
    const noise = numberOption(values, 'noise', 0, 0);
    const noiseSeed = intOption(values, 'noise-seed', 0, 0);
    const maxBatch = intOption(values, 'max-batch', DEFAULT_MAX_BATCH);
    // v1, or v2 with k >= 1 outputs (k > 1: [[y1..yk], ...], k announced)
    const any = readNetworkAny(file);
    if (any.format === 'nnid.network/v2' && noise > 0) throw new UsageError('--noise is for v1 network files (a v2 network is served exactly)');
    const net = any.format === 'nnid.network/v2' ? any.general : any.network;
    let requests = 0;
    const onRequest = (e: RequestEvent) => {
      requests++;
      if (values.log) io.err(`${e.method} ${e.path} ${e.status} ${e.rows} rows ${e.ms.toFixed(1)} ms${e.error ? ` — ${e.error}` : ''}`);
    };
    // Handlers first: a signal that arrives while the server starts still stops it.
    const signals = watchSignals();
    let served;
    try {
      served = await serveNetwork(net, { port, host, token, noise, noiseSeed, maxBatch, onRequest });
    } catch (e) {
      signals.dispose();
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new UsageError(`port ${port} on ${host} is in use`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new UsageError(`cannot listen on --host ${host}: ${code}`);
      if (code === 'EACCES') throw new UsageError(`no permission to listen on port ${port}`);
      throw e;
    }
    io.out(
      `serving ${file} (d = ${net.inputDim}, m0 = ${net.width1}, m1 = ${net.width2}${'outputs' in net && net.outputs > 1 ? `, k = ${net.outputs}` : ''}${noise > 0 ? `, noise ${noise}` : ''}${token ? ', token required' : ''}) at ${served.url}`,
    );
    io.out('stop with Ctrl-C');
    const signal = await signals.received;
    await served.close();
    io.out(`${signal}: stopped after ${requests} requests (${served.rowsAnswered()} rows answered)`);
    return 0;
  },
};
