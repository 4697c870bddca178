/**
 * Which cells the write-amplification study measures, and on what databases. Two sweeps cover
 * every dimension without the full product (which would not fit the time budget):
 *
 * - the snapshot sweep: k = 0, 1, 2, 4, 8, 16 live snapshots, at batches of 1,000;
 * - the batch sweep: batches of 1, 10, 100, 1,000 and 10,000 operations, at k = 0 and k = 4;
 *
 * each for every workload, value size and variant.
 */
import { type CellSpec, type EngineSettings, VARIANTS } from './study-cell.js'
import { WORKLOADS } from './workloads.js'

/** One database size of the study: how many entries it holds and how many operations run on it. */
export interface StudySize {
  valueBytes: number
  keys: number
  /** Operations of each workload: three times the database's entries. */
  operations: number
  settings: EngineSettings
}

/** What the study runs. */
export interface StudyPlan {
  sizes: StudySize[]
  cells: CellSpec[]
  /** Point reads at a snapshot per cell, to count what a snapshot read costs. */
  snapshotGets: number
  /** Database sizes (entries of 100-byte values) at which snapshot creation is timed. */
  creationSizes: number[]
}

/** Snapshot counts of the snapshot sweep. */
export const SNAPSHOT_COUNTS = [0, 1, 2, 4, 8, 16]
/** Batch sizes of the batch sweep. */
export const BATCH_SIZES = [1, 10, 100, 1000, 10_000]
/** Snapshot counts of the batch sweep. */
export const BATCH_SWEEP_SNAPSHOTS = [0, 4]
/** The batch size of the snapshot sweep. */
export const SNAPSHOT_SWEEP_BATCH = 1000

/** The database the engine benchmark uses, and the engines' defaults for it, that the study scales down from. */
const REFERENCE = { liveBytes: 1_000_000 * (16 + 100), minLogBytes: 8 * 2 ** 20, maxLogBytes: 256 * 2 ** 20, segmentBytes: 64 * 2 ** 20 }

/**
 * The engines' defaults scaled by the database's live bytes against the engine benchmark's
 * (1,000,000 entries of 116 bytes), so a small database checkpoints and reclaims as often,
 * relative to its size, as the large one does with the defaults.
 */
export function scaledSettings(keys: number, valueBytes: number): EngineSettings {
  const scale = (keys * (16 + valueBytes)) / REFERENCE.liveBytes
  return {
    minLogBytes: Math.round(REFERENCE.minLogBytes * scale),
    maxLogBytes: Math.round(REFERENCE.maxLogBytes * scale),
    segmentBytes: Math.max(64 * 1024, Math.round(REFERENCE.segmentBytes * scale)),
  }
}

function size(valueBytes: number, keys: number): StudySize {
  return { valueBytes, keys, operations: 3 * keys, settings: scaledSettings(keys, valueBytes) }
}

/** The plan of a full run (`quick` false) or of a smoke run (tiny databases, fewer batch sizes). */
export function studyPlan(quick: boolean): StudyPlan {
  const sizes = quick ? [size(100, 1000), size(4096, 100)] : [size(100, 20_000), size(4096, 2000)]
  const batches = quick ? [1, 1000] : BATCH_SIZES
  const cells: CellSpec[] = []
  const seen = new Set<string>()
  const add = (cell: CellSpec) => {
    const id = `${cell.workload}/${cell.valueBytes}/${cell.batch}/${cell.snapshots}/${cell.variant}`
    if (seen.has(id)) return
    seen.add(id)
    cells.push(cell)
  }
  for (const { valueBytes } of sizes) {
    for (const workload of WORKLOADS) {
      for (const snapshots of SNAPSHOT_COUNTS) for (const variant of VARIANTS) add({ variant, workload, valueBytes, batch: SNAPSHOT_SWEEP_BATCH, snapshots })
      for (const batch of batches) for (const snapshots of BATCH_SWEEP_SNAPSHOTS) for (const variant of VARIANTS) add({ variant, workload, valueBytes, batch, snapshots })
    }
  }
  return { sizes, cells, snapshotGets: quick ? 50 : 200, creationSizes: quick ? [100, 1000] : [1000, 10_000, 100_000] }
}
