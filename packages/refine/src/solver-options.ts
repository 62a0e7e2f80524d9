import { checkInteger, checkPositive, invalidArgument } from '@nnid/core';

/** The solver options every fit of this package takes (see RefineOptions), checked, with their defaults. */
export interface SolverOptions {
  stepTolerance?: number;
  residualTolerance?: number;
  costTolerance?: number;
  maxIterations?: number;
  stallWindow?: number;
  stallFactor?: number;
  stallAbove?: number;
  innerSteps?: number;
  blasThreads?: number;
}

export function checkSolverOptions(o: SolverOptions) {
  const stepTolerance = checkPositive('stepTolerance', o.stepTolerance ?? 1e-13);
  const residualTolerance = checkPositive('residualTolerance', o.residualTolerance ?? 1e-15, true);
  const costTolerance = checkPositive('costTolerance', o.costTolerance ?? 1e-12, true);
  const maxIterations = checkInteger('maxIterations', o.maxIterations ?? 200, 0);
  const stallWindow = checkInteger('stallWindow', o.stallWindow ?? 50, 0);
  const stallFactor = checkPositive('stallFactor', o.stallFactor ?? 0.8);
  if (stallFactor >= 1) invalidArgument('stallFactor', 'must be a number in (0, 1)', stallFactor);
  const stallAbove = checkPositive('stallAbove', o.stallAbove ?? 1e-6, true);
  const innerSteps = checkInteger('innerSteps', o.innerSteps ?? 4, 0);
  const blasThreads = checkInteger('blasThreads', o.blasThreads ?? 1);
  return { stepTolerance, residualTolerance, costTolerance, maxIterations, stallWindow, stallFactor, stallAbove, innerSteps, blasThreads };
}
