/**
 * One cell of the write-amplification study: one engine variant, one workload, one value size, one
 * batch size, k live snapshots. Every byte is counted by the storage layer, by purpose, on an
 * in-memory file system, so the figures are exact and do not depend on the machine.
 */
import type { Engine, Operation } from '@strata/btree'
import { CowEngine } from '@strata/cow-engine'
import { RowEngine } from '@strata/row-engine'
import { type MemoryFileSystem, PURPOSES, type Purpose } from '@strata/storage'
import { TallyingFileSystem } from './file-tally.js'
import { benchKey, median, random } from './harness.js'
import { loadBatches, type WorkloadName } from './workloads.js'

/** The three ways of keeping snapshots the study compares. */
export type Variant = 'row' | 'cow-per-snapshot' | 'cow-shared'

/** Every variant, in reporting order. */
export const VARIANTS: readonly Variant[] = ['row', 'cow-per-snapshot', 'cow-shared']

/** What one cell measures. */
export interface CellSpec {
  variant: Variant
  workload: WorkloadName
  valueBytes: number
  batch: number
  snapshots: number
}

/** Where the reads of a snapshot's point reads went. */
export interface SnapshotReadCost {
  /** Point reads made at the oldest snapshot, on a cold cache. */
  gets: number
  /** Storage reads they caused, all files. */
  reads: number
  /** Of those, reads of pre-image stores (COW only). */
  preimageReads: number
  bytesRead: number
}

/** The figures of one cell. */
export interface CellResult extends CellSpec {
  /** Entries in the database before the workload. */
  keys: number
  operations: number
  userBytes: number
  /** All bytes written by the workload and the checkpoint owed at its end. */
  bytesWritten: number
  writeAmplification: number
  bytesWrittenBy: Record<Purpose, number>
  /** Bytes read to serve the writes (COW: old page contents read to copy them). */
  bytesReadBy: Record<Purpose, number>
  /** Bytes of the database's files at the end, snapshots still live. */
  fileBytes: number
  /** Key and value bytes of the head at the end. */
  liveBytes: number
  spaceAmplification: number
  snapshotReads: SnapshotReadCost
  /** Median time to take one more snapshot with k live, in nanoseconds. */
  snapshotCreateNs: number
  /** Checkpoints the engine made during the workload (the owed one at the end not counted). */
  checkpoints: number
  /** Wall time of the workload, in milliseconds (machine-dependent; for the record only). */
  workloadMs: number
}

/**
 * The engines' size-dependent settings. The study runs databases far smaller than the engine
 * benchmark's million keys, so that hundreds of cells fit in minutes; scaling these settings down
 * with the database keeps the ratios that decide write amplification (checkpoint interval to
 * database size, segment size to database size) those of the large database.
 */
export interface EngineSettings {
  /** Checkpoint no sooner than after this many bytes of log (both engines). */
  minLogBytes: number
  /** Checkpoint no later than after this many bytes of log (both engines). */
  maxLogBytes: number
  /** Size at which the ROW engine's log starts a new segment (the unit of reclamation). */
  segmentBytes: number
}

/** A loaded database, closed, to copy for each cell: one per engine family and value size. */
export interface LoadedDatabase {
  family: 'row' | 'cow'
  valueBytes: number
  keys: number
  files: MemoryFileSystem
  settings: EngineSettings
}

/** Opens `variant` on `fs` with `settings`, and the engines' default checkpoint ratio and page size. */
function open(variant: Variant, fs: MemoryFileSystem, settings: EngineSettings): Promise<Engine> {
  const checkpoint = { minLogBytes: settings.minLogBytes, maxLogBytes: settings.maxLogBytes }
  if (variant === 'row') return RowEngine.open({ fs, checkpoint, segmentBytes: settings.segmentBytes })
  return CowEngine.open({ fs, checkpoint, store: variant === 'cow-shared' ? 'shared' : 'per-snapshot' })
}

/** The engine family a variant's files belong to: both COW modes share one file format. */
export function familyOf(variant: Variant): 'row' | 'cow' {
  return variant === 'row' ? 'row' : 'cow'
}

/** Loads `keys` entries (random order, durable batches of 1,000) into a new database of `family`, and closes it. */
export async function loadDatabase(family: 'row' | 'cow', keys: number, valueBytes: number, settings: EngineSettings): Promise<LoadedDatabase> {
  const files = new TallyingFileSystem()
  const engine = await open(family === 'row' ? 'row' : 'cow-shared', files, settings)
  for (const batch of loadBatches(keys, valueBytes)) await engine.write(batch)
  await engine.close()
  return { family, valueBytes, keys, files, settings }
}

/** Median nanoseconds to take one snapshot on `engine` (each released after the round, untimed). */
function snapshotCreateNs(engine: Engine, rounds = 5, perRound = 200): number {
  const perSnapshot: number[] = []
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint()
    const taken = Array.from({ length: perRound }, () => engine.snapshot())
    perSnapshot.push(Number(process.hrtime.bigint() - start) / perRound)
    for (const s of taken) s.release()
  }
  return median(perSnapshot)
}

/** Point reads of loaded keys at `at`, counting the storage reads they cause by file. */
function readAtSnapshot(engine: Engine, fs: TallyingFileSystem, at: Parameters<Engine['get']>[1], keys: number, gets: number): SnapshotReadCost {
  const before = fs.readsByFile()
  const rand = random(31337)
  for (let n = 0; n < gets; n++) {
    const key = benchKey(Math.floor(rand() * keys))
    if (engine.get(key, at) === undefined) throw new Error(`the snapshot lost key ${key.toString('latin1')}`)
  }
  const cost: SnapshotReadCost = { gets, reads: 0, preimageReads: 0, bytesRead: 0 }
  for (const [name, tally] of fs.readsByFile()) {
    const reads = tally.reads - (before.get(name)?.reads ?? 0)
    cost.reads += reads
    cost.bytesRead += tally.bytes - (before.get(name)?.bytes ?? 0)
    if (/\.pre$|^preimages\.db$/.test(name)) cost.preimageReads += reads
  }
  return cost
}

/**
 * Measures one cell:
 * 1. Copy the loaded database and open it cold (nothing cached).
 * 2. Take k snapshots, then zero the counters.
 * 3. Run the workload's batches, each durable.
 * 4. Pay the checkpoint the workload owes (COW: now, so the pre-images are made; ROW: at close),
 *    so no deferred write is left out of the figure.
 * 5. Read at the oldest snapshot on a cold cache, time snapshot creation, and measure the files.
 */
export async function measureCell(loaded: LoadedDatabase, spec: CellSpec, batches: readonly Operation[][], snapshotGets: number): Promise<CellResult> {
  if (familyOf(spec.variant) !== loaded.family) throw new TypeError(`a ${spec.variant} cell needs a ${familyOf(spec.variant)} database`)
  // 1. Open cold.
  const fs = TallyingFileSystem.copyOf(loaded.files)
  const engine = await open(spec.variant, fs, loaded.settings)
  // 2. Snapshots, all of the state before the workload.
  const snapshots = Array.from({ length: spec.snapshots }, () => engine.snapshot())
  const checkpointsBefore = engine.stats().checkpoints
  fs.io.reset()
  // 3. The workload.
  const started = process.hrtime.bigint()
  for (const batch of batches) await engine.write(batch)
  const workloadMs = Number(process.hrtime.bigint() - started) / 1e6
  const checkpoints = engine.stats().checkpoints - checkpointsBefore
  // 4 and 5. The owed checkpoint, the snapshot reads and the files, in the order each engine allows.
  let reads: SnapshotReadCost
  let fileBytes: number
  let snapshotReadBytes: Record<Purpose, number>
  const liveBytes = engine.stats().liveBytes
  const createNs = snapshotCreateNs(engine)
  const readsBefore = { ...fs.io.report().bytesRead }
  const gets = snapshots[0] ? snapshotGets : 0
  if (engine instanceof CowEngine) {
    await engine.checkpoint()
    const atCheckpoint = { ...fs.io.report().bytesRead }
    reads = readAtSnapshot(engine, fs, snapshots[0], loaded.keys, gets)
    snapshotReadBytes = difference(fs.io.report().bytesRead, atCheckpoint)
    // Pre-image stores live only as long as their snapshots: measure before close removes them.
    fileBytes = fs.fileBytes()
    await engine.close()
  } else {
    reads = readAtSnapshot(engine, fs, snapshots[0], loaded.keys, gets)
    snapshotReadBytes = difference(fs.io.report().bytesRead, readsBefore)
    await engine.close()
    fileBytes = fs.fileBytes()
  }
  const io = fs.io.report()
  const bytesReadBy = difference(io.bytesRead, snapshotReadBytes)
  return {
    ...spec,
    keys: loaded.keys,
    operations: batches.reduce((n, b) => n + b.length, 0),
    userBytes: io.userBytes,
    bytesWritten: io.totalWritten,
    writeAmplification: io.writeAmplification,
    bytesWrittenBy: { ...io.bytesWritten },
    bytesReadBy,
    fileBytes,
    liveBytes,
    spaceAmplification: liveBytes === 0 ? 0 : fileBytes / liveBytes,
    snapshotReads: reads,
    snapshotCreateNs: createNs,
    checkpoints,
    workloadMs,
  }
}

function difference(after: Record<Purpose, number>, before: Record<Purpose, number>): Record<Purpose, number> {
  return Object.fromEntries(PURPOSES.map((p) => [p, after[p] - before[p]])) as Record<Purpose, number>
}
