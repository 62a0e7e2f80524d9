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
