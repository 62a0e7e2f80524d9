/**
 * A progress bar on stderr for long work. On a terminal it redraws one line; elsewhere (logs,
 * CI) it prints a line at each quarter so logs stay short. Silent when `quiet`.
 */
export interface Progress {
  update(done: number, total: number, label?: string): void;
  done(message?: string): void;
}

export function progressBar(title: string, options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  let lastQuarter = -1;
  let lastDraw = 0;
  const start = Date.now();
  return {
    update(done, total, label = '') {
      if (options.quiet || total <= 0) return;
      const frac = Math.min(1, done / total);
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 80 && done < total) return;
        lastDraw = now;
        const width = 28;
        const filled = Math.round(frac * width);
        const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
        stream.write(`\r${title} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${total} ${label}`.padEnd(78) + '\r');
      } else {
        const quarter = Math.floor(frac * 4);
        if (quarter > lastQuarter) {
          lastQuarter = quarter;
          stream.write(`${title}: ${(frac * 100).toFixed(0)}% (${done}/${total}) ${label}\n`);
        }
      }
    },
    done(message) {
      if (options.quiet) return;
      const secs = ((Date.now() - start) / 1000).toFixed(2);
      if (tty) stream.write('\r' + ' '.repeat(78) + '\r');
      stream.write(`${title}: done in ${secs} s${message ? ` — ${message}` : ''}\n`);
    },
  };
}

/** What identify emits (IdentifyProgress of @nnid/pipeline, structurally). */
export interface StageEvent {
  event: 'plan' | 'start' | 'step' | 'end' | 'note';
  stage: string;
  done: number;
  total: number;
  message?: string;
  /** 'end': the stage's seconds, the number identify adds to report.seconds[stage]. */
  seconds?: number;
}

/**
 * identify's progress on stderr: the plan (one line, and a warning line when it exceeds its
 * target), a bar per stage with steps, and one line per stage run with its seconds as identify
 * measured them (the report's clock and stage names, so the lines add up to report.seconds).
 */
export function stageProgress(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): { update: (e: StageEvent) => void; done: () => void } {
  const stream = options.stream ?? process.stderr;
  let bar: Progress | null = null;
  let barStage = '';
  const clear = () => {
    if (bar && stream.isTTY) stream.write('\r' + ' '.repeat(78) + '\r');
    bar = null;
    barStage = '';
  };
  return {
    update(e) {
      if (options.quiet) return;
      if (e.event === 'plan') {
        clear();
        for (const line of (e.message ?? '').split('\n')) stream.write(line.startsWith('warning: ') ? `${line}\n` : `plan: ${line}\n`);
      } else if (e.event === 'step') {
        // single-step stages get their 'end' line only
        if (e.total <= 1) return;
        if (barStage !== e.stage) {
          clear();
          barStage = e.stage;
          bar = progressBar(e.stage, { stream });
        }
        bar?.update(e.done, e.total, e.message ?? '');
      } else if (e.event === 'end') {
        if (barStage === e.stage) clear();
        stream.write(`${e.stage}: done in ${(e.seconds ?? 0).toFixed(2)} s${e.message ? ` — ${e.message}` : ''}\n`);
      } else if (e.event === 'note') {
        // activation 'auto' and method 'auto': a candidate ended (its CPU seconds)
        clear();
        stream.write(`${e.stage === 'method' ? 'method auto' : e.stage === 'activation' ? 'activation auto' : e.stage}: ${e.message ?? ''}${e.seconds !== undefined ? ` (${e.seconds.toFixed(1)} CPU s)` : ''}\n`);
      }
    },
    done: clear,
  };
}

/** A check's threshold as printed: as given when short (1e-9), else to 3 digits (a noise-aware 2.11e-7). */
export function thresholdText(threshold: number): string {
  const plain = String(threshold);
  return plain.length <= 6 ? plain : threshold.toExponential(2);
}
