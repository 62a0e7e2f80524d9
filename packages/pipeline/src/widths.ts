/**
 * Width inference, in one place: m0 from range(A) (or given, or the input dimension), the m1 the
 * budget and the attempts count with before any attempt (given, or from the Hessian spectrum's
 * largest relative gap), and where each attempt's m1 came from. Growing m1 after a failed check is
 * the retry policy's (retry-policy.ts).
 */
import type { ResolvedOptions } from './options.ts';

export interface FirstWidth {
  width1: number;
  source: string;
  warning: string | null;
}

/** m0: given, else the dimension of range(A), else (no reduction) the input dimension as an upper bound. */
export function firstWidth(options: ResolvedOptions, range: { dimension: number; dimensionSource: string } | null, inputDim: number): FirstWidth {
  if (options.width1 !== undefined) return { width1: options.width1, source: 'given', warning: null };
  if (range) return { width1: range.dimension, source: `range(A): ${range.dimensionSource}`, warning: null };
  // no reduction and no width1: the widest possible first layer; attribution decides
  return {
    width1: inputDim,
    source: 'upper bound (inputDim); attribution decides',
    warning: 'width1 not given and reduceToRange off: m0 taken as inputDim for sampling counts',
  };
}

/** m1 of the Hessian budget and of the plan: given, else ceil(m0 / 2). */
export function budgetWidth2(options: ResolvedOptions, width1: number): number {
  return options.width2 ?? Math.ceil(width1 / 2);
}

/**
 * m1 for the dimensions of W-hat and the solver's starts: given, else from the spectrum of the
 * Hessian stack: dim W = m0 + m1 with 1 <= m1 <= m0, at the largest relative gap s_D / s_{D+1}.
 */
export function spectrumWidth2(options: ResolvedOptions, spectrum: readonly number[], width1: number): { width2: number; source: string } {
  if (options.width2 !== undefined) return { width2: options.width2, source: 'given' };
  let bestDimension = -1;
  let bestGap = 0;
  for (let D = width1 + 1; D <= Math.min(2 * width1, spectrum.length - 1); D++) {
    const gap = spectrum[D] > 0 ? spectrum[D - 1] / spectrum[D] : Infinity;
    if (gap > bestGap) {
      bestGap = gap;
      bestDimension = D;
    }
  }
  return {
    width2: bestDimension > 0 ? bestDimension - width1 : Math.ceil(width1 / 2),
    source: 'spectrum gap (for sampling dimensions; the count is the attribution\'s)',
  };
}

/** Where an attempt's m1 came from: the entangled weights it found, the option, or a retry step. */
export function attemptWidth2Source(options: ResolvedOptions, stepWidth2: number | undefined): string {
  if (stepWidth2 === undefined) return 'entangled weights found';
  return options.width2 !== undefined ? 'given' : 'tried after a failed check (m1 + 1)';
}
