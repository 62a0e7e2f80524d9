/**
 * `nnid worker --queue redis://HOST:PORT[/DB]`: runs the sweep runs that `nnid sweep --queue`
 * enqueued, on any machine that reaches Redis, until stopped (SIGINT or SIGTERM: the runs in
 * progress end first; a second signal stops at once, and their jobs go back to the queue).
 */
import { availableParallelism } from 'node:os';
import { intOption, stringOption, UsageError, type Command } from '../cli.ts';
import { checkReachable, parseQueueUrl, QUEUE_NAME, startWorker } from '../sweep/queue.ts';

const help = `usage: nnid worker --queue redis://HOST:PORT[/DB] [--concurrency N]

Runs the runs of sweeps enqueued with nnid sweep --queue (BullMQ queue "${QUEUE_NAME}"), each
exactly as nnid sweep runs it on one machine (one run per worker thread), and sends each run's
JSON line back through Redis; the sweep command writes it to its results file. Start as many
workers, on as many machines, as you like; stop one with Ctrl-C (it finishes its runs first) or
kill it: the runs it held go back to the queue for another worker after its lock expires
(15 s; the environment variable NNID_QUEUE_LOCK_MS sets it, for tests).

options:
  --queue URL          the Redis to take runs from: redis://[user:password@]HOST[:PORT][/DB]
  --concurrency N      runs at once, one per worker thread (default: the number of cores, ${availableParallelism()} here)
  -h, --help           this help

example (three machines):
  nnid worker --queue redis://10.0.0.5:6379/0                      # on each worker machine
  nnid sweep --sizes 20x10x3 --seeds 1-100 --queue redis://10.0.0.5:6379/0 --out runs.jsonl`;

export const command: Command = {
  name: 'worker',
  summary: 'run the runs of sweeps enqueued on Redis (nnid sweep --queue), on any machine',
  help,
  options: {
    queue: { type: 'string' },
    concurrency: { type: 'string' },
  },
  async run(values, io) {
    if (values.queue === undefined) throw new UsageError('missing required option --queue (a Redis URL such as redis://127.0.0.1:6379/0)');
    const target = parseQueueUrl(stringOption(values, 'queue'));
    const concurrency = intOption(values, 'concurrency', availableParallelism());
    if (concurrency > 1024) throw new UsageError(`--concurrency must be an integer in [1, 1024], got '${concurrency}'`);
    await checkReachable(target);
    const worker = await startWorker({ target, concurrency }, io);
    io.out(`worker: waiting for runs on ${target.display} (queue ${QUEUE_NAME}), ${concurrency} at a time`);
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) process.exit(130);
        stopping = true;
        io.out(`worker: ${signal}: finishing the runs in progress (again to stop at once)`);
        worker.close().then(resolve, resolve);
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
    io.out('worker: stopped');
    return 0;
  },
};
