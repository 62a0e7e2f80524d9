/**
 * identify()'s stages under one vocabulary: the names of report.seconds, report.queries.byStage,
 * the plan and the progress events. `run.stage(name, fn)` runs a stage and records its seconds,
 * its queries (paying stages) and its progress on one clock, so the progress events' seconds add
 * up to the report's.
 */
import type { Oracle, QueryCounts } from '@nnid/core';
import type { QueryPlan } from './plan.ts';

/** Every stage, in the order a run meets them. */
export const STAGES = ['noise', 'gradients', 'range', 'hessians', 'subspace', 'rankOne', 'attribution', 'completion', 'entangled', 'shifts', 'refine'] as const;
export type IdentifyStage = (typeof STAGES)[number];

/** The stages that query the black box: one entry each in report.queries.byStage and in the plan. */
export const PAYING_STAGES = ['noise', 'gradients', 'hessians', 'shifts', 'refine'] as const;
export type PayingStage = (typeof PAYING_STAGES)[number];

export interface StageQueries {
  total: number;
  paid: number;
  reused: number;
}

/**
 * What identify() reports as it goes: the plan ('plan', before the first query), then per stage a
 * 'start', 'step's (done of total), and an 'end' carrying the stage's seconds (the number added to
 * report.seconds[stage]: a stage run several times, once per attempt, adds up there). Activation
 * 'auto' and method 'auto' add a 'note' as each of their candidates ends (stage 'activation' or
 * 'method': which pair or fit ran, its residual, passed or not), so a long search shows where it is.
 */
export interface IdentifyProgress {
  event: 'plan' | 'start' | 'step' | 'end' | 'note';
  stage: IdentifyStage | 'plan' | 'activation' | 'method';
  done: number;
  total: number;
  message?: string;
  /** 'end': the seconds of this run of the stage. */
  seconds?: number;
  /** 'plan': the queries planned per paying stage. */
  plan?: QueryPlan;
}

export const ZERO: StageQueries = { total: 0, paid: 0, reused: 0 };

export function queriesBetween(after: QueryCounts, before: QueryCounts): StageQueries {
  return { total: after.total - before.total, paid: after.paid - before.paid, reused: after.reused - before.reused };
}

export function addQueries(a: StageQueries, b: StageQueries): StageQueries {
  return { total: a.total + b.total, paid: a.paid + b.paid, reused: a.reused + b.reused };
}

const isPaying = (stage: IdentifyStage): stage is PayingStage => (PAYING_STAGES as readonly string[]).includes(stage);

/** One attempt's share of the stages it ran (its report's queries, and its refine seconds for the lanes rule). */
export interface AttemptLedger {
  seconds: Partial<Record<IdentifyStage, number>>;
  queries: StageQueries;
}

export interface StageOptions {
  message?: string;
  /** The attempt the stage belongs to (its seconds and queries are added there too). */
  attempt?: AttemptLedger;
  /**
   * 'span' (default): the stage's queries are those asked between its start and end. 'inside': only
   * those asked through the `pay` it is given (a stage that waits on a worker while other stages
   * query in the main thread).
   */
  queries?: 'span' | 'inside';
}

export interface Run {
  readonly seconds: Partial<Record<IdentifyStage, number>>;
  readonly queries: Record<PayingStage, StageQueries>;
  /** Runs one stage: seconds, queries and progress recorded under `name`. */
  stage<T>(name: IdentifyStage, fn: (pay: <U>(query: () => Promise<U>) => Promise<U>) => Promise<T> | T, options?: StageOptions): Promise<T>;
  /** A progress step of a running stage. */
  step(name: IdentifyStage, done: number, total: number, message?: string): void;
  emit(event: IdentifyProgress): void;
  /** After this, stages that end (attempts no longer wanted) are neither recorded nor reported. */
  seal(): void;
}

export function createRun(oracle: Oracle, onProgress: ((event: IdentifyProgress) => void) | undefined): Run {
  const seconds: Partial<Record<IdentifyStage, number>> = {};
  const queries: Record<PayingStage, StageQueries> = { noise: { ...ZERO }, gradients: { ...ZERO }, hessians: { ...ZERO }, shifts: { ...ZERO }, refine: { ...ZERO } };
  let sealed = false;
  const emit = (event: IdentifyProgress) => onProgress?.(event);
  return {
    seconds,
    queries,
    emit,
    step: (stage, done, total, message) => emit({ event: 'step', stage, done, total, ...(message ? { message } : {}) }),
    seal: () => {
      sealed = true;
    },
    async stage(name, fn, options = {}) {
      const started = performance.now();
      let asked = { ...ZERO };
      const pay = async <U>(query: () => Promise<U>): Promise<U> => {
        const before = oracle.counts();
        try {
          return await query();
        } finally {
          asked = addQueries(asked, queriesBetween(oracle.counts(), before));
        }
      };
      const before = oracle.counts();
      emit({ event: 'start', stage: name, done: 0, total: 1, ...(options.message ? { message: options.message } : {}) });
      try {
        return await fn(pay);
      } finally {
        if (!sealed) {
          const spent = (performance.now() - started) / 1000;
          const stageQueries = options.queries === 'inside' ? asked : queriesBetween(oracle.counts(), before);
          seconds[name] = (seconds[name] ?? 0) + spent;
          if (isPaying(name)) queries[name] = addQueries(queries[name], stageQueries);
          if (options.attempt) {
            options.attempt.seconds[name] = (options.attempt.seconds[name] ?? 0) + spent;
            if (isPaying(name)) options.attempt.queries = addQueries(options.attempt.queries, stageQueries);
          }
          emit({ event: 'end', stage: name, done: 1, total: 1, seconds: spent });
        }
      }
    },
  };
}
