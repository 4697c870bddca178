/** The restart part's results (bench/src/restart.ts), apart from the script, which runs when imported. */
import type { RunRecord } from './result-file.js'

/** A store the restart part kills and reopens. */
export type RestartStore = 'strata-row' | 'strata-cow' | 'level' | 'lmdb'
export const RESTART_STORES: readonly RestartStore[] = ['strata-row', 'strata-cow', 'level', 'lmdb']

/** One kill and the reopen after it. */
export interface KillPoint {
  /** Durable batches the killed process had written. */
  batches: number
  /** Milliseconds the reopen took (open resolved), in this process. */
  reopenMs: number
}

/** One store at one size. */
export interface RestartRun {
  store: RestartStore
  keys: number
  /** The replay target, for the frontier's ROW runs (undefined: the default policy). */
  maxReplayMs?: number
  /** Batches between two checkpoints as the calibration run saw them (Strata), or the batches it ran (peers). */
  cycleBatches: number
  /** Strata: all bytes written ÷ user bytes between the calibration run's first and last checkpoint. */
  cycleWriteAmplification?: number
  kills: KillPoint[]
  /** Milliseconds of an open after a clean close, median of three. */
  cleanOpenMs: number
}

/** The part's results file. */
export interface RestartResults extends RunRecord {
  benchmark: 'restart'
  valueBytes: number
  batch: number
  defaultMaxReplayMs: number
  runs: RestartRun[]
  /** The frontier's ROW runs, one per replay target, at `frontierKeys`. */
  frontier: RestartRun[]
  frontierKeys: number
}

/** The worst reopen of a run, in milliseconds. */
export function worstReopen(run: RestartRun): number {
  return Math.max(...run.kills.map((k) => k.reopenMs))
}
