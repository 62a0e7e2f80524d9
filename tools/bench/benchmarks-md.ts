/**
 * What every benchmark in tools/bench shares: the machine line of its report, and rewriting its
 * own `## ...` section of BENCHMARKS.md while leaving the other sections alone.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** "Machine: 2 cores (...), Node v20; load average a before, b after" (+ a note when loaded). */
export function machineLine(loadBefore: number[], loadAfter: number[]): string {
  return (
    `Machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; load average ${loadBefore[0].toFixed(2)} before, ${loadAfter[0].toFixed(2)} after` +
    `${Math.max(loadBefore[0], loadAfter[0]) > 0.5 ? ' (the machine was shared with other work: figures are lower bounds)' : ''}.`
  );
}

/** Replaces (or appends) the section headed `header` in BENCHMARKS.md. */
export function writeBenchmarkSection(header: string, section: string): void {
  const file = join(repoRoot, 'BENCHMARKS.md');
  const body = `${header}\n\n${section}\n`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nFigures from `tools/bench/*.ts` on the project machine. Each section belongs to its benchmark.\n';
  const start = text.indexOf(`\n${header}\n`);
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + header.length + 1);
    text = text.slice(0, start + 1) + body + (next >= 0 ? '\n' + text.slice(next + 1) : '');
  } else {
    text = text.replace(/\n*$/, '\n\n') + body;
  }
  writeFileSync(file, text);
  console.log(`\nwrote the "${header}" section of ${file}`);
}
