/**
 * A sweep over many machines: the grid's runs as BullMQ jobs on Redis (job id = the run id), run
 * by `nnid worker` processes anywhere that reaches Redis, each run exactly as the single-machine
 * sweep runs it (the same task in a worker thread), its JSON line returned as the job's result.
 * The sweep command enqueues and follows: it appends each run's line to the results file once
 * per run id as results arrive.
 *
 * BullMQ does the scheduling: a job whose worker dies (kill -9) keeps its lock until the lock
 * expires, then another worker's stalled-job check puts it back in the queue; a run that throws
 * fails its job once (one attempt) and is written as a crash record. The follower does not rely on
 * the event stream alone: every few seconds it asks Redis for the state of the runs it still
 * waits for, so events missed while Redis was away (or a queue lost by a Redis restarted without
 * persistence: the missing jobs are added again) cannot leave it waiting forever.
 */
import { availableParallelism } from 'node:os';
import { experimentId, type ExperimentRecord, type ExperimentSpec } from '@nnid/pipeline';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { Piscina } from 'piscina';
import { UsageError, type CommandIo } from '../cli.ts';
import { progressBar } from '../progress.ts';
import { crashMessage, crashRecord, isCrash, RecordWriter, type SweepRecord } from './records.ts';

/** The BullMQ queue every sweep uses; a run is known by its id across sweeps that share a Redis database. */
export const QUEUE_NAME = 'nnid-sweep';
/** How long `--queue` waits for Redis to answer before it says it cannot reach it. */
export const CONNECT_SECONDS = 5;

/** A parsed `--queue` value: ioredis options and the URL to show (credentials left out). */
export interface QueueTarget {
  options: RedisOptions;
  display: string;
}

/** The data of one job. */
export interface RunJob {
  spec: ExperimentSpec;
  scorePoints: number;
}

/**
 * Parses `redis://[user:password@]HOST[:PORT][/DB]`; a UsageError (exit 2) names what is wrong.
 */
export function parseQueueUrl(raw: string): QueueTarget {
  const example = 'redis://HOST:PORT/DB such as redis://127.0.0.1:6379/0';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--queue: '${raw}' is not a URL (expected ${example})`);
  }
  const shown = (u: URL) => `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new UsageError(`--queue: '${shown(url)}' is not a redis:// URL (expected ${example})`);
  if (!url.hostname) throw new UsageError(`--queue: '${shown(url)}' names no host (expected ${example})`);
  if (url.search || url.hash) throw new UsageError(`--queue: '${shown(url)}' has a query or fragment; expected ${example}`);
  const port = url.port === '' ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,2}$/.test(path)) throw new UsageError(`--queue: '${shown(url)}': the database must be a number such as /0, got '/${path}'`);
  const db = path === '' ? 0 : Number(path);
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  return { options, display: `${url.protocol}//${url.host}/${db}` };
}

/** Reconnect forever, backing off to 2 s between tries (a Redis restart is waited out). */
function retryStrategy(times: number): number {
  return Math.min(100 * times, 2000);
}

/** A client for BullMQ: retries forever, commands wait while Redis is away (maxRetriesPerRequest null, as BullMQ requires). */
export function redisClient(target: QueueTarget, onError: (e: Error) => void): Redis {
  const client = new Redis({ ...target.options, maxRetriesPerRequest: null, retryStrategy, lazyConnect: false });
  client.on('error', onError);
  return client;
}

/** Throws a UsageError unless Redis answers a PING within CONNECT_SECONDS. */
export async function checkReachable(target: QueueTarget): Promise<void> {
  const client = new Redis({ ...target.options, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: CONNECT_SECONDS * 1000 });
  let last: Error | undefined;
  client.on('error', (e: Error) => (last = e));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), CONNECT_SECONDS * 1000))),
    ]);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (last as NodeJS.ErrnoException | undefined)?.code ?? (e as Error).message;
    throw new UsageError(`--queue: cannot reach Redis at ${target.display} within ${CONNECT_SECONDS} s (${why})`);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** Says a lost connection once per outage, not once per retry. */
function outageReporter(io: CommandIo, who: string, target: QueueTarget): { error: (e: Error) => void; ready: () => void } {
  let down = false;
  return {
    error(e) {
      if (down) return;
      down = true;
      io.err(`${who}: lost Redis at ${target.display} (${(e as NodeJS.ErrnoException).code ?? e.message}); reconnecting`);
    },
    ready() {
      if (!down) return;
      down = false;
      io.err(`${who}: reconnected to Redis at ${target.display}`);
    },
  };
}

/** The job's result as the follower reads it: the run's JSON line (a string), parsed. */
function parseResult(value: unknown): SweepRecord | null {
  try {
    const r = typeof value === 'string' ? JSON.parse(value) : value;
    return typeof r === 'object' && r !== null && typeof r.id === 'string' ? (r as SweepRecord) : null;
  } catch {
    return null;
  }
}

export interface FollowOptions {
  target: QueueTarget;
  out: string;
  scorePoints: number;
  /** false: enqueue, collect what Redis has already finished, and return. */
  wait: boolean;
  /** Ids whose last line in the results file is a crash: a failed job of these is run again. */
  crashed: Set<string>;
  /** Seconds between the follower's look at the state of the runs it waits for (default 5). */
  pollSeconds?: number;
}

export interface FollowResult {
  written: SweepRecord[];
  enqueued: number;
  /** Runs still queued or running when the follower returned (with wait: false). */
  pending: number;
}

/**
 * Enqueues the runs not yet in Redis, and appends to `options.out` the records of runs Redis has
 * finished, once per run id; with `wait`, follows until every run is written.
 */
export async function enqueueAndFollow(todo: ExperimentSpec[], options: FollowOptions, io: CommandIo): Promise<FollowResult> {
  const { target, out, scorePoints } = options;
  const specs = new Map(todo.map((s) => [experimentId(s), s]));
  const pending = new Set(specs.keys());
  const written: SweepRecord[] = [];
  const outage = outageReporter(io, 'sweep', target);
  const queueClient = redisClient(target, outage.error);
  queueClient.on('ready', outage.ready);
  const eventsClient = redisClient(target, outage.error);
  const queue = new Queue<RunJob>(QUEUE_NAME, { connection: queueClient });
  queue.on('error', outage.error);
  const events = options.wait ? new QueueEvents(QUEUE_NAME, { connection: eventsClient }) : null;
  events?.on('error', outage.error);
  const writer = new RecordWriter(out);
  const bar = progressBar('sweep');
  let crashes = 0;
  const total = pending.size;
  const collect = (id: string, record: SweepRecord | null) => {
    if (!pending.has(id) || record === null || record.id !== id) return;
    pending.delete(id);
    writer.append(record);
    written.push(record);
    if (isCrash(record)) {
      crashes++;
      io.err(`sweep: ${id} crashed: ${record.error} (written to ${out}; a rerun runs it again)`);
    }
    bar.update(total - pending.size, total, `${id} ${isCrash(record) ? 'CRASHED' : (record as ExperimentRecord).targetMet ? 'ok' : 'MISSED'}`);
  };
  const failed = (id: string, reason: string | undefined) => {
    const spec = specs.get(id);
    if (spec) collect(id, crashRecord(spec, reason ?? 'the job failed with no reason given'));
  };
  let enqueued = 0;
  /** Looks at every run still waited for; `first`: also retries failed jobs of crashed runs. */
  const reconcile = async (first: boolean) => {
    const ids = [...pending];
    for (let at = 0; at < ids.length; at += 500) {
      const chunk = ids.slice(at, at + 500);
      const states = await Promise.all(chunk.map((id) => queue.getJobState(id)));
      const missing = chunk.filter((_, k) => states[k] === 'unknown');
      if (missing.length) {
        await queue.addBulk(missing.map((id) => ({ name: 'run', data: { spec: specs.get(id)!, scorePoints }, opts: { jobId: id } })));
        if (first) enqueued += missing.length;
        else io.err(`sweep: ${missing.length} run(s) missing from Redis (restarted without persistence?): enqueued again`);
      }
      await Promise.all(
        chunk.map(async (id, k) => {
          if (states[k] !== 'completed' && states[k] !== 'failed') return;
          const job = await queue.getJob(id);
          if (!job) return;
          if (states[k] === 'completed') collect(id, parseResult(job.returnvalue));
          else if (first && options.crashed.has(id)) await job.retry('failed');
          else failed(id, job.failedReason);
        }),
      );
    }
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    if (events) {
      events.on('completed', ({ jobId, returnvalue }) => collect(jobId, parseResult(returnvalue)));
      events.on('failed', ({ jobId, failedReason }) => failed(jobId, failedReason));
      await events.waitUntilReady();
    }
    await reconcile(true);
    io.out(`sweep: ${enqueued} run(s) enqueued to ${target.display} (queue ${QUEUE_NAME}), ${total - enqueued} already there, ${written.length} collected from it`);
    if (events && pending.size) {
      // a look costs a Redis call per waiting run: at most every 5 s, and less often for big sweeps (2 ms per run)
      const pollMs = () => Math.max((options.pollSeconds ?? 5) * 1000, 2 * pending.size);
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pending.size) return resolve();
          reconcile(false).then(() => (pending.size ? (timer = setTimeout(check, pollMs())) : resolve()), reject);
        };
        const poll = () => (pending.size ? undefined : resolve());
        events.on('completed', poll);
        events.on('failed', poll);
        timer = setTimeout(check, pollMs());
      });
    }
  } finally {
    clearTimeout(timer);
    writer.close();
    await events?.close().catch(() => {});
    await queue.close().catch(() => {});
    queueClient.disconnect();
    eventsClient.disconnect();
  }
  if (written.length || options.wait) bar.done(`${written.length} runs written to ${out}` + (crashes ? ` (${crashes} crashed)` : '') + (pending.size ? `, ${pending.size} still queued or running` : ''));
  return { written, enqueued, pending: pending.size };
}

export interface WorkerOptions {
  target: QueueTarget;
  /** Runs at once, one per worker thread (default: the number of cores). */
  concurrency?: number;
  /** The worker-thread entry (default sweep/worker.mjs); tests pass one that crashes on purpose. */
  workerUrl?: string;
  /** BullMQ's job lock (default 15 s, or NNID_QUEUE_LOCK_MS): a killed worker's run goes back to the queue after about 1.5 of it. */
  lockMs?: number;
}

export interface QueueWorker {
  /** Waits for the runs in progress, then stops. */
  close(): Promise<void>;
}

/**
 * Runs the queue's jobs, `concurrency` at a time, each in a worker thread through the sweep's own
 * task; a job's result is the run's JSON line. Crashes (the task threw, its thread died) fail the
 * job with the crash's message, which the follower writes as a crash record.
 */
export async function startWorker(options: WorkerOptions, io: CommandIo): Promise<QueueWorker> {
  const { target } = options;
  const concurrency = options.concurrency ?? availableParallelism();
  const envLock = Number(process.env.NNID_QUEUE_LOCK_MS);
  const lockMs = options.lockMs ?? (Number.isFinite(envLock) && envLock > 0 ? envLock : 15_000);
  const pool = new Piscina({
    filename: options.workerUrl ?? new URL('./worker.mjs', import.meta.url).href,
    minThreads: concurrency,
    maxThreads: concurrency,
  });
  const outage = outageReporter(io, 'worker', target);
  const client = redisClient(target, outage.error);
  client.on('ready', outage.ready);
  const worker = new Worker<RunJob, string>(
    QUEUE_NAME,
    async (job: Job<RunJob, string>) => {
      const id = job.id ?? '?';
      io.out(`worker: ${id} started`);
      const started = performance.now();
      try {
        if (typeof job.data?.spec !== 'object' || experimentId(job.data.spec) !== id) throw new Error(`job ${id} is not a run of nnid sweep`);
        const record = (await pool.run({ spec: job.data.spec, scorePoints: job.data.scorePoints })) as ExperimentRecord;
        io.out(`worker: ${id} done in ${((performance.now() - started) / 1000).toFixed(2)} s`);
        return JSON.stringify(record);
      } catch (e) {
        const message = crashMessage(e);
        io.err(`worker: ${id} crashed: ${message}`);
        throw new Error(message);
      }
    },
    {
      connection: client,
      concurrency,
      lockDuration: lockMs,
      stalledInterval: Math.max(500, Math.round(lockMs / 2)),
      // a run killed twice with its worker is not tried a third time: it is written as crashed
      maxStalledCount: 2,
    },
  );
  worker.on('error', outage.error);
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      client.disconnect();
      await pool.destroy();
    },
  };
}
