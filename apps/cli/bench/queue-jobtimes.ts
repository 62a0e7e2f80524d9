// The queue's cost per run, from BullMQ's job timestamps (run after a queued sweep, before the
// database is flushed): npx tsx apps/cli/bench/queue-jobtimes.ts PORT RESULTS.jsonl LANES
//   inWorker: a job's time on its worker minus the run's own wall time (thread dispatch, the JSON
//             line, BullMQ's completion); idleLanePerRun: lane time with no job, per run.
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAME } from '../src/sweep/queue.ts';

const [port, results, lanesArg] = process.argv.slice(2);
const lanes = Number(lanesArg ?? 2);
const client = new Redis({ host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null });
const queue = new Queue(QUEUE_NAME, { connection: client });
const jobs = await queue.getJobs(['completed'], 0, -1);
const wall = new Map<string, number>(readFileSync(results, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((r) => [r.id, r.wallSeconds]));
const busy = jobs.map((j) => (j.finishedOn! - j.processedOn!) / 1000);
const inWorker = jobs.map((j, k) => busy[k] - wall.get(j.id!)!).sort((a, b) => a - b);
const start = Math.min(...jobs.map((j) => j.processedOn!));
const end = Math.max(...jobs.map((j) => j.finishedOn!));
const span = (end - start) / 1000;
const sumBusy = busy.reduce((a, b) => a + b, 0);
console.log(
  JSON.stringify({
    jobs: jobs.length,
    enqueueToFirstStartS: (start - Math.min(...jobs.map((j) => j.timestamp))) / 1000,
    spanS: span,
    sumRunWallS: [...wall.values()].reduce((a, b) => a + b, 0),
    sumJobBusyS: sumBusy,
    idleLanePerRunS: (lanes * span - sumBusy) / jobs.length,
    inWorkerMedianS: inWorker[inWorker.length >> 1],
    inWorkerMaxS: inWorker.at(-1),
  }),
);
await queue.close();
client.disconnect();
