/** The clone part's results (bench/src/clone-bench.ts), apart from the script, which runs when imported. */
import { median } from './harness.js'
import type { RunRecord } from './result-file.js'

/**
 * A way of making a new database of a state: a ROW clone by hard link, a ROW clone that copies
 * (`link: false`), a COW clone, and an export of the ROW database.
 */
export type CloneMethod = 'row-link' | 'row-copy' | 'cow' | 'export'
export const CLONE_METHODS: readonly CloneMethod[] = ['row-link', 'row-copy', 'cow', 'export']

/** The ROW engine's default segment size. */
export const DEFAULT_SEGMENT_BYTES = 64 * 2 ** 20

/**
 * The state copied: the head, or the named snapshot taken halfway through the load; and, by ROW's
 * clone by hard link only, after the rounds, the head once that snapshot is deleted.
 */
export type ClonedState = 'head' | 'named' | 'head-no-snapshot'
/** The states every method copies in the rounds. */
export const CLONED_STATES: readonly ClonedState[] = ['head', 'named']

/** The engine a method copies from. */
export type CloneEngine = 'row' | 'cow'

/** Which engine each method copies from. */
export const METHOD_ENGINE: Record<CloneMethod, CloneEngine> = { 'row-link': 'row', 'row-copy': 'row', cow: 'cow', export: 'row' }

/** One clone (or export) into a fresh folder. */
export interface CloneRound {
  /** Milliseconds from the call to its resolution. */
  ms: number
  /** The clone's `bytesWritten`; for an export, the bytes of the folder it made. */
  bytesWritten: number
  linkedFiles: number
  copiedFiles: number
}

/** One method and state at one size, over the rounds. */
export interface CloneRun {
  method: CloneMethod
  state: ClonedState
  keys: number
  rounds: CloneRound[]
}

/** A source database as the clones found it. */
export interface CloneSource {
  engine: CloneEngine
  keys: number
  /** Bytes of its files after the load (and a close and reopen). */
  fileBytes: number
  /** ROW: its log segments then. */
  segments?: number
}

/** Durable overwrites on a clone or on its source, and what they wrote. */
export interface OverwriteRun {
  engine: CloneEngine
  keys: number
  on: 'clone' | 'source'
  operations: number
  /** Key and value bytes of the batches, as the engine counts them. */
  userBytes: number
  /** Every byte the engine's storage wrote, from the open to the end of the close. */
  bytesWritten: number
  /** bytesWritten ÷ userBytes. */
  writeAmplification: number
  /** Seconds of the writes and the close. */
  seconds: number
}

/** The part's results file. */
export interface CloneResults extends RunRecord {
  benchmark: 'clone'
  valueBytes: number
  batch: number
  /** The ROW sources' segment size: at most this much of the log is ever copied by a linking clone. */
  segmentBytes: number
  rounds: number
  sources: CloneSource[]
  runs: CloneRun[]
  /** Overwrites in each overwrite run. */
  overwrites: number
  overwriteRuns: OverwriteRun[]
}

/** The median milliseconds of a run's rounds. */
export function medianMs(run: CloneRun): number {
  return median(run.rounds.map((r) => r.ms))
}

/** The median bytes written of a run's rounds. */
export function medianBytes(run: CloneRun): number {
  return median(run.rounds.map((r) => r.bytesWritten))
}
