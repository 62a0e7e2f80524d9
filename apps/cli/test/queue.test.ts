// nnid sweep --queue and nnid worker against a real Redis, started here on a free port of
// 127.0.0.1 with its own temporary directory and stopped afterwards.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.ts';
import { parseQueueUrl, QUEUE_NAME, startWorker } from '../src/sweep/queue.ts';

const redisServer = spawnSync('redis-server', ['--version']).status === 0;
if (!redisServer) console.log('queue.test.ts: redis-server is not installed (apt-get install -y redis-server): the tests with a real Redis are skipped');

const dir = mkdtempSync(join(tmpdir(), 'nnid-queue-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A child process whose output lines are kept, with a wait for a line. */
interface Proc {
  child: ChildProcess;
  lines: string[];
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      lines.push(line);
      for (const w of [...waiters]) {
        const m = line.match(w.pattern);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitFor(pattern, ms = 90_000) {
      const seen = lines.map((l) => l.match(pattern)).find((m) => m);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line ${pattern} within ${ms} ms; output:\n${lines.join('\n')}`)), ms);
        waiters.push({ pattern, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
  };
}

async function startRedis(port: number, redisDir: string, persist: boolean): Promise<Proc> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--save', ''];
  args.push(...(persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  const redis = start('redis-server', args);
  await redis.waitFor(/Ready to accept connections/, 30_000);
  return redis;
}

const nnid = fileURLToPath(new URL('../bin/nnid.js', import.meta.url));
/** A worker process; a short lock so that a killed worker's run goes back to the queue within seconds. */
function worker(url: string, concurrency = 1): Proc {
  return start(process.execPath, [nnid, 'worker', '--queue', url, '--concurrency', String(concurrency)], { NNID_QUEUE_LOCK_MS: '3000' });
}

const grid = ['sweep', '--sizes', '6x4x2,8x4x2', '--activations', 'tanh', '--shift-stds', '0.3', '--seeds', '1-3', '--score-points', '500'];
const gridIds = ['d6', 'd8'].flatMap((d) => [1, 2, 3].map((s) => `${d}-m4-m2-tanh-tanh-s0p3-n0-p0-seed${s}`)).sort();

function records(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}
/** A record without its times: what must be identical whichever machine ran it. */
function untimed(r: Record<string, unknown>): Record<string, unknown> {
  const { seconds: _s, wallSeconds: _w, ...rest } = r;
  return rest;
}

describe.skipIf(!redisServer)('nnid sweep --queue with nnid worker processes (real Redis)', () => {
  let redis: Proc;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    const redisDir = join(dir, 'redis');
    spawnSync('mkdir', ['-p', redisDir]);
    redis = await startRedis(port, redisDir, false);
  });
  afterAll(async () => {
    redis?.child.kill('SIGTERM');
    await redis?.exited;
  });

  it('two workers, one killed with SIGKILL mid-run: every run once, identical to the single-machine sweep; a rerun enqueues nothing', async () => {
    const url = `redis://127.0.0.1:${port}/1`;
    const out = join(dir, 'queued.jsonl');
    const a = worker(url);
    const b = worker(url);
    await Promise.all([a.waitFor(/^worker: waiting for runs on/), b.waitFor(/^worker: waiting for runs on/)]);
    const sweep = run([...grid, '--queue', url, '--out', out]);
    const [, killedId] = await a.waitFor(/^worker: (\S+) started/);
    a.child.kill('SIGKILL');
    const result = await sweep;
    expect(result.err.filter((l) => !l.startsWith('sweep: '))).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.out[0]).toBe(`sweep: 6 runs in the grid, 0 already in ${out}, 6 to run through redis://127.0.0.1:${port}/1`);
    expect(result.out[1]).toBe(`sweep: 6 run(s) enqueued to redis://127.0.0.1:${port}/1 (queue ${QUEUE_NAME}), 0 already there, 0 collected from it`);
    const queued = records(out);
    expect(queued.map((r) => r.id).sort()).toEqual(gridIds);
    // the killed run was taken up again: started twice, ended by the other worker
    expect(a.lines.some((l) => l.startsWith(`worker: ${killedId} done`))).toBe(false);
    expect(b.lines).toContain(`worker: ${killedId} started`);
    const client = new Redis({ ...parseQueueUrl(url).options, maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection: client });
    try {
      const job = await queue.getJob(killedId);
      expect(job!.attemptsStarted).toBeGreaterThanOrEqual(2);
      expect(await queue.getJobCounts('completed', 'failed', 'wait', 'active')).toEqual({ completed: 6, failed: 0, wait: 0, active: 0 });

      // the same grid on one machine gives the same records (weights, errors, queries), times apart
      const single = join(dir, 'single.jsonl');
      const alone = await run([...grid, '--workers', '2', '--out', single]);
      expect(alone.code).toBe(0);
      const byId = new Map(records(single).map((r) => [r.id, untimed(r)]));
      for (const r of queued) expect(untimed(r)).toEqual(byId.get(r.id as string));

      // everything finished: a rerun enqueues nothing and writes nothing
      const again = await run([...grid, '--queue', url, '--out', out]);
      expect(again.code).toBe(0);
      expect(again.out[0]).toBe(`sweep: 6 runs in the grid, 6 already in ${out}, 0 to run through redis://127.0.0.1:${port}/1`);
      expect(records(out)).toHaveLength(6);
      expect(await queue.getJobCounts('completed', 'wait')).toEqual({ completed: 6, wait: 0 });

      // a new results file is filled from the results Redis keeps, with no run done again
      const fresh = join(dir, 'fresh.jsonl');
      const collected = await run([...grid, '--queue', url, '--out', fresh, '--no-wait']);
      expect(collected.out[1]).toBe(`sweep: 0 run(s) enqueued to redis://127.0.0.1:${port}/1 (queue ${QUEUE_NAME}), 6 already there, 6 collected from it`);
      const sorted = (rs: Record<string, unknown>[]) => [...rs].sort((x, y) => String(x.id).localeCompare(String(y.id)));
      expect(sorted(records(fresh))).toEqual(sorted(queued));
    } finally {
      await queue.close();
      client.disconnect();
    }
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(b.lines.at(-1)).toBe('worker: stopped');
  });

  it('a run that throws or whose thread dies is written as crashed once, with its error; a rerun runs it again', async () => {
    const url = `redis://127.0.0.1:${port}/2`;
    const out = join(dir, 'crashes.jsonl');
    const target = parseQueueUrl(url);
    const io = { out: () => {}, err: () => {} };
    const id = (seed: number) => `d6-m4-m2-tanh-tanh-s0p3-n0-p0-seed${seed}`;
    const crashGrid = ['sweep', '--sizes', '6x4x2', '--activations', 'tanh', '--shift-stds', '0.3', '--seeds', '1-3', '--score-points', '500', '--queue', url, '--out', out];
    // seed 2 throws inside the task, seed 3 ends its worker thread
    const crashing = await startWorker({ target, concurrency: 1, lockMs: 3000, workerUrl: new URL('./fixtures/crashing-sweep-worker.mjs', import.meta.url).href }, io);
    const first = await run(crashGrid);
    await crashing.close();
    expect(first.code).toBe(1);
    expect(first.err.filter((l) => l.includes('crashed')).sort()).toEqual([
      `sweep: ${id(2)} crashed: RangeError: injected crash in the worker (written to ${out}; a rerun runs it again)`,
      `sweep: ${id(3)} crashed: worker exited with code: 7 (written to ${out}; a rerun runs it again)`,
    ]);
    const lines = records(out);
    expect(lines.map((r) => r.id).sort()).toEqual([id(1), id(2), id(3)]);
    const byId = new Map(lines.map((r) => [r.id, r]));
    // the single-machine sweep's crash record, field for field
    expect(byId.get(id(2))).toEqual({
      id: id(2),
      spec: { inputDim: 6, width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, shiftStd: 0.3, noise: 0, perturb: 0, seed: 2 },
      crashed: true,
      error: 'RangeError: injected crash in the worker',
      cause: 'crash: RangeError: injected crash in the worker',
      exact: false,
      targetMet: false,
      checkPassed: null,
      silentFailure: false,
      before: null,
      after: null,
      queries: null,
      seconds: null,
      wallSeconds: null,
    });
    expect(byId.get(id(3))).toMatchObject({ crashed: true, error: 'worker exited with code: 7', before: null });
    expect(byId.get(id(1))).toMatchObject({ error: null });

    // a rerun with the real task runs the two crashed runs again (their failed jobs retried)
    const real = await startWorker({ target, concurrency: 1, lockMs: 3000 }, io);
    try {
      const rerun = await run(crashGrid);
      expect(rerun.err.filter((l) => l.includes('crashed'))).toEqual([]);
      expect(rerun.code).toBe(0);
      expect(rerun.out[0]).toBe(`sweep: 3 runs in the grid, 1 already in ${out} (and 2 crashed: run again), 2 to run through ${target.display}`);
      const after = records(out);
      expect(after).toHaveLength(5);
      expect(after.slice(3).map((r) => r.id).sort()).toEqual([id(2), id(3)]);
      for (const r of after.slice(3)) expect(r).toMatchObject({ error: null, exact: true });
    } finally {
      await real.close();
    }
  });

  it('Redis restarted mid-sweep: the worker and the follower reconnect and finish, every run once', async () => {
    const restartPort = await freePort();
    const redisDir = join(dir, 'redis-restart');
    spawnSync('mkdir', ['-p', redisDir]);
    let server = await startRedis(restartPort, redisDir, true);
    const url = `redis://127.0.0.1:${restartPort}/0`;
    const out = join(dir, 'restart.jsonl');
    const w = worker(url);
    try {
      await w.waitFor(/^worker: waiting for runs on/);
      const err: string[] = [];
      let followerLost: () => void = () => {};
      const lost = new Promise<void>((resolve) => (followerLost = resolve));
      const io = {
        out: () => {},
        err: (line: string) => {
          err.push(line);
          if (line.startsWith('sweep: lost Redis')) followerLost();
        },
      };
      const sweep = main([...grid, '--queue', url, '--out', out], io);
      // Redis goes down while the worker's first run is in progress and five wait in the queue
      await w.waitFor(/^worker: \S+ started/);
      server.child.kill('SIGTERM');
      await server.exited;
      await Promise.all([w.waitFor(/^worker: lost Redis/), lost]);
      server = await startRedis(restartPort, redisDir, true);
      expect(await sweep).toBe(0);
      expect(err).toContain(`sweep: lost Redis at ${url} (ECONNREFUSED); reconnecting`);
      expect(records(out).map((r) => r.id).sort()).toEqual(gridIds);
      await w.waitFor(/^worker: reconnected to Redis/);
    } finally {
      w.child.kill('SIGKILL');
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});

describe('nnid sweep --queue / nnid worker: bad input (exit 2, one line)', () => {
  it('a malformed URL, an unreachable Redis, a bad --concurrency, --no-wait alone', async () => {
    const cases: [string[], string][] = [
      [['worker', '--queue', 'http://127.0.0.1:6379'], "nnid worker: --queue: 'http://127.0.0.1:6379' is not a redis:// URL (expected redis://HOST:PORT/DB such as redis://127.0.0.1:6379/0)"],
      [['worker', '--queue', 'localhost'], "nnid worker: --queue: 'localhost' is not a URL (expected redis://HOST:PORT/DB such as redis://127.0.0.1:6379/0)"],
      [['worker', '--queue', 'redis://127.0.0.1:6379/x'], "nnid worker: --queue: 'redis://127.0.0.1:6379/x': the database must be a number such as /0, got '/x'"],
      [['worker'], 'nnid worker: missing required option --queue (a Redis URL such as redis://127.0.0.1:6379/0)'],
      [['worker', '--queue', 'redis://127.0.0.1:6379', '--concurrency', '0'], "nnid worker: --concurrency must be an integer >= 1, got '0'"],
      [['worker', '--queue', 'redis://127.0.0.1:6379', '--concurrency', '1.5'], "nnid worker: --concurrency must be an integer >= 1, got '1.5'"],
      [[...grid, '--no-wait'], 'nnid sweep: --no-wait needs --queue (it enqueues and returns)'],
    ];
    for (const [argv, line] of cases) {
      const r = await run(argv);
      expect({ argv, code: r.code, err: r.err }).toEqual({ argv, code: 2, err: [line] });
    }
    // nothing listens on the port: said at once, the URL shown without its password
    const port = await freePort();
    const r = await run([...grid, '--out', join(dir, 'never.jsonl'), '--queue', `redis://user:secret@127.0.0.1:${port}/3`]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([`nnid sweep: --queue: cannot reach Redis at redis://127.0.0.1:${port}/3 within 5 s (ECONNREFUSED)`]);
  });
});
