import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** n points with N(0, 1) coordinates, from `seed` (an n x d random matrix). */
export { randomMatrix as gaussianPoints } from '@nnid/testing';

export interface ScriptedServer {
  url: string;
  port: number;
  /** Requests received so far (method and parsed body). */
  requests: { method: string; body: unknown }[];
  close(): Promise<void>;
}

/**
 * A bare node:http server whose answers the test writes: `handler` gets the request number
 * (0-based, over all requests), the method and the parsed JSON body.
 */
export async function scriptedServer(
  handler: (index: number, method: string, body: any, res: ServerResponse, req: IncomingMessage) => void,
): Promise<ScriptedServer> {
  const requests: { method: string; body: unknown }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? JSON.parse(text) : undefined;
      const index = requests.length;
      requests.push({ method: req.method ?? '', body });
      handler(index, req.method ?? '', body, res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

/** A port nothing listens on (bound, read, released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts test/fixtures/post_only_server.py (Python's http.server: GET answered 501, answers
 * shaped [n, 1]) on a free port of 127.0.0.1; undefined when no python3 is installed.
 */
export async function pythonPostOnlyServer(networkFile: string, extra: string[] = []): Promise<{ url: string; close(): Promise<void> } | undefined> {
  const { spawn, spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  if (spawnSync('python3', ['--version']).status !== 0) return undefined;
  const script = fileURLToPath(new URL('./fixtures/post_only_server.py', import.meta.url));
  const child = spawn('python3', [script, networkFile, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes('\n')) resolve(Number(text.trim()));
    });
    child.on('exit', (code) => reject(new Error(`post_only_server.py exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/predict`,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
