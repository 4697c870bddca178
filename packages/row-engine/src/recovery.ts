import { calibrateReplay, checkCacheSize, decodeBatch, DEFAULT_PAGE_SIZE, outlineBatch, type PageAddress, ReplayRuns, spill, Tree } from '@strata/btree'
import { corruption, ErrorCode, type FileSystem, frameRecord, holdsBytes, RECORD_HEADER_BYTES, sealRecord, StrataError } from '@strata/storage'
import { type LogAddress, logAddress, offsetOf, segmentOf } from './address.js'
import type { CheckpointPolicy } from './checkpoint.js'
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint-record.js'
import { removeEmptySegments } from './cleaning.js'
import { apply, applyRun } from './commit.js'
import { Database } from './database.js'
import { MetaFile } from './meta.js'
import { dropSnapshot, nameSnapshot, restoreTo } from './named.js'
import { RecordType } from './record.js'
import type { RowEngineOptions } from './row-engine.js'
import { type ScannedRecord, SEGMENT_PATTERN, SegmentLog, segmentName } from './segment-log.js'
import { decodeDropRecord, decodeRestoreRecord, decodeSnapshotRecord } from './snapshot-records.js'

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
/** Bytes a replay reads at once when it reads a page: the leaves a run changes, in key order, mostly lie in order too. */
const REPLAY_READ_AHEAD_BYTES = 256 * 1024

/**
 * Opens the database in `options.fs` (creating it if the options allow) and recovers its head;
 * the caller holds the folder's lock. A failed recovery closes the files it opened.
 */
export async function openDatabase(options: RowEngineOptions, policy: CheckpointPolicy): Promise<Database> {
  const { fs } = options
  const created = !MetaFile.exists(fs)
  const meta = await openOrCreate(options)
  const log = new SegmentLog(fs, meta.current.segmentBytes)
  const db = new Database(fs, log, meta, policy, { created, readOnly: options.readOnly === true, cacheSize: checkCacheSize(options.cacheSize) })
  try {
    await recover(db, options.onRecovery)
  } catch (error) {
    log.close()
    meta.close()
    throw error
  }
  return db
}

/**
 * Rebuilds the head from the newest durable checkpoint:
 * 1. Read the checkpoint record META names: the root, the sequence, the space table.
 * 2. Replay every whole BATCH record after it with the next sequence number, in order.
 * 3. Stop at the first record that is torn, fails its checksum or breaks the sequence; cut
 *    the log there, so new records follow the last valid one.
 */
async function recover(db: Database, onRecovery: RowEngineOptions['onRecovery']): Promise<void> {
  // A damaged META slot may have named a newer checkpoint than the one the other slot names,
  // whose segments may be gone since: start from the newest whole checkpoint in the log.
  if (db.meta.damagedSlot !== undefined) {
    const newest = newestCheckpoint(db)
    if (newest !== undefined && newest.seq >= db.meta.current.checkpointSeq) db.checkpointAt = newest.address
  }
  const at = db.checkpointAt
  const where = segmentName(segmentOf(at))
  const record = db.log.readRecord(at, 'meta')
  if (record.type !== RecordType.CHECKPOINT) throw corruption(where, offsetOf(at), 'META names a record that is not a checkpoint')
  const checkpoint = decodeCheckpoint(record.payload, where, offsetOf(at))
  for (const [segment, bytes] of checkpoint.live) db.space.live.set(segment, bytes)
  db.seq = checkpoint.seq
  db.tree.adoptRoot(db.loadNode(checkpoint.root as PageAddress))
  db.tree.dataBytes = checkpoint.dataBytes
  db.publish(true)
  // Named snapshots pin their states again, and the space they alone hold stays held.
  for (const stored of checkpoint.snapshots) {
    db.named.set(stored.name, { ...stored, node: undefined })
    db.space.pin(stored.seq)
  }
  db.space.restoreHeld(checkpoint.held)
  const recordEnd = (at + RECORD_HEADER_BYTES + record.payload.length) as LogAddress
  // A checkpoint written beside the writes names where the log ended when it froze its state: the
  // batches after it start there, before the record (docs/format.md §CHECKPOINT).
  db.replayFrom = (checkpoint.replayFrom ?? recordEnd) as LogAddress
  let end = db.replayFrom
  // Batches go in as runs, in key order (§Replay); a record of another kind sees the state before it.
  const started = performance.now()
  const progress = replayProgress(db, end, started, onRecovery)
  const runs = new ReplayRuns(db.log.bytesFrom(end), {
    applyRun: (seq, each) => applyRun(db, seq, each),
    applyBatch: (seq, ops) => apply(db, seq, ops),
    applied: (batches, bytes) => {
      db.logSinceCheckpoint += bytes
      progress?.replayed(batches)
    },
  })
  db.readAhead(REPLAY_READ_AHEAD_BYTES)
  let seq = db.seq
  for (const r of db.log.scan(end, 'log')) {
    const file = segmentName(segmentOf(r.address))
    const offset = offsetOf(r.address)
    if (r.type === RecordType.BATCH) {
      const batch = outlineBatch(r.payload, file, offset)
      if (batch.seq !== seq + 1) break
      progress?.found()
      runs.add(batch.seq, r.payload, batch.offsets, r.next - r.address)
      seq = batch.seq
      end = r.next
      continue
    }
    // A named snapshot's record sees the state before it; other records (VALUE, PAGE) change nothing.
    if (r.type === RecordType.SNAPSHOT || r.type === RecordType.DROP || r.type === RecordType.RESTORE) runs.flush()
    if (r.type === RecordType.SNAPSHOT) {
      const snapshot = decodeSnapshotRecord(r.payload, file, offset)
      if (snapshot.seq !== db.seq) break
      nameSnapshot(db, snapshot.name, snapshot.createdAt, snapshot.meta)
    } else if (r.type === RecordType.DROP) {
      dropSnapshot(db, decodeDropRecord(r.payload, file, offset))
    } else if (r.type === RecordType.RESTORE) {
      const restore = decodeRestoreRecord(r.payload, file, offset)
      if (restore.seq !== db.seq + 1) break
      restoreTo(db, restore.name, restore.seq)
      seq = db.seq
    }
    end = r.next
  }
  runs.flush()
  db.readAhead(0)
  progress?.done()
  // What lies between the replay's start and the checkpoint record was durable before META named it.
  if (end < recordEnd) throw corruption(segmentName(segmentOf(end)), offsetOf(end), `the log between the replay's start and the checkpoint record in ${where} at offset ${offsetOf(at)} is not whole`)
  // Records that end exactly at the end of their segment, with the next segment's file there: the
  // log ends at the start of that one, and appends go there, never to the full segment (a clone
  // shares such a segment with its source: docs/format.md §Clones).
  if (offsetOf(end) === db.log.segmentSize(segmentOf(end)) && db.log.segments().includes(segmentOf(end) + 1)) end = logAddress(segmentOf(end) + 1, 0)
  // The policy keeps the next restart's replay under its target at the speed this one had.
  db.replayScale = calibrateReplay(db.replayScale, db.logSinceCheckpoint, db.dirtiedSinceCheckpoint, performance.now() - started)
  refuseDamage(db, end)
  db.publish(true)
  // Read-only: the head lives in memory only; the log's tail and leftover segments stay as they are.
  if (db.readOnly) return
  db.log.resume(end)
  // What recovery read must be durable before anything builds on it: the replayed log (the OS
  // may still hold it unsynced from before a process crash) and META, which is rewritten when
  // recovery had to look past a damaged slot.
  db.log.markUnsynced(segmentOf(db.replayFrom))
  await db.log.sync()
  if (db.meta.damagedSlot !== undefined || db.meta.current.checkpoint !== db.checkpointAt) {
    await db.meta.update(db.checkpointAt, checkpoint.seq)
  } else {
    await db.meta.sync()
  }
  // The directory entries found (META's, the segments') may never have been synced either.
  await db.fs.syncDirectory()
  // Segments a crash kept from being removed hold nothing the checkpoint uses.
  removeEmptySegments(db)
}

/** A replay's reports to `onRecovery`: the first when it finds a batch to replay, then after each run, then when it is done. */
interface Progress {
  /** A batch to replay was found (the first one starts the reports). */
  found(): void
  /** `batches` more were applied. */
  replayed(batches: number): void
  /** The replay is over (reported only if it found a batch). */
  done(): void
}

/** The replay's reporter; undefined if nobody listens. */
function replayProgress(db: Database, from: LogAddress, started: number, onRecovery: RowEngineOptions['onRecovery']): Progress | undefined {
  if (!onRecovery) return undefined
  const logBytes = db.log.bytesFrom(from)
  let begun = false
  let batches = 0
  const report = (done: boolean) => onRecovery({ logBytes, replayedBytes: Math.min(logBytes, db.logSinceCheckpoint), batches, elapsedMs: performance.now() - started, done })
  return {
    found() {
      if (begun) return
      begun = true
      report(false)
    },
    replayed(more) {
      batches += more
      report(false)
    },
    done() {
      if (begun) report(true)
    },
  }
}

/**
 * Throws LEVEL_CORRUPTION if the log holds a whole BATCH record after `end` (where the replay
 * stopped) that proves `end` was durable: power lost mid-write leaves whole records after a lost
 * or torn one only where no completed sync covered them, and those are a crash's leftovers, cut
 * off by `resume`; but a batch whose durable-through mark passes `end` was written after a sync
 * covered it, so the bad record there is damage, and cutting would drop acknowledged commits.
 * (A batch without the mark, from an older version, proves it by a sequence number past the next.)
 */
function refuseDamage(db: Database, end: LogAddress): void {
  const judge = (later: ScannedRecord) => {
    if (later.type !== RecordType.BATCH) return
    const file = segmentName(segmentOf(later.address))
    const batch = decodeBatch(later.payload, file, offsetOf(later.address))
    const proves = batch.durableThrough === undefined ? batch.seq > db.seq + 1 : batch.durableThrough > end
    if (proves) {
      throw corruption(
        `${db.fs.location}/${segmentName(segmentOf(end))}`,
        offsetOf(end),
        `bad log record followed by commit ${batch.seq} at ${file} offset ${offsetOf(later.address)}, which was written once the log was durable past it`,
      )
    }
  }
  // Each scan's payloads are valid only until it yields the next: judge them as they come.
  for (const later of db.log.recordsAfter(end, 'log')) judge(later)
  for (const later of db.log.recordsAbove(segmentOf(end), 'log')) judge(later)
}

/** The whole CHECKPOINT record with the highest sequence number, searching the newest segments first. */
function newestCheckpoint(db: Database): { address: LogAddress; seq: number } | undefined {
  for (const segment of db.log.segments().reverse()) {
    let found: { address: LogAddress; seq: number } | undefined
    for (const r of db.log.scanSegment(segment, 'meta')) {
      if (r.type !== RecordType.CHECKPOINT) continue
      const seq = decodeCheckpoint(r.payload, segmentName(segment), offsetOf(r.address)).seq
      if (!found || seq >= found.seq) found = { address: r.address, seq }
    }
    if (found) return found
  }
  return undefined
}

/** Opens META, or creates a new database: an empty root page and a first checkpoint. */
async function openOrCreate(options: RowEngineOptions): Promise<MetaFile> {
  const { fs } = options
  if (MetaFile.exists(fs)) {
    if (options.errorIfExists) throw new StrataError(ErrorCode.EXISTS, `${fs.location} already holds a database`)
    return MetaFile.open(fs)
  }
  // Never a second database beside a copy-before-write one (its pages.db: docs/format.md).
  if (holdsBytes(fs, 'pages.db')) {
    throw new StrataError(ErrorCode.ENGINE_MISMATCH, `${fs.location} holds a copy-before-write database (pages.db), not a redirect-on-write one`)
  }
  // A creation cut short leaves at most the first segment with creation's own records and no
  // META. Segments with anything more mean META was lost, not never written.
  const leftovers = leftFromCreation(fs)
  if (options.createIfMissing === false || options.readOnly) throw new StrataError(ErrorCode.NOT_FOUND, `${fs.location} holds no database`)
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE
  if (!Number.isInteger(pageSize) || pageSize < 256 || pageSize > 65536) throw new RangeError('pageSize must be an integer from 256 to 65536')
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES
  if (!Number.isInteger(segmentBytes) || segmentBytes < 4096 || segmentBytes > 2 ** 31) throw new RangeError('segmentBytes must be an integer from 4096 to 2^31')
  for (const name of leftovers) fs.remove(name)
  const log = new SegmentLog(fs, segmentBytes)
  log.roll()
  const root = new Tree({ pageSize, loadNode: () => unreachable(), readValue: () => unreachable() }, { rewritten() {}, removed() {}, valueRemoved() {} }).root
  let rootAddress = 0
  const pages: Buffer[] = []
  spill(
    root,
    (_node, framed) => {
      pages.push(sealRecord(framed, RecordType.PAGE))
      rootAddress = log.end + RECORD_HEADER_BYTES
      return rootAddress as PageAddress
    },
    RECORD_HEADER_BYTES,
  )
  const pageRecord = pages[0] as Buffer
  const live = new Map([[log.activeSegment, pageRecord.length]])
  const checkpoint = frameRecord(RecordType.CHECKPOINT, encodeCheckpoint({ seq: 0, root: rootAddress, dataBytes: 0, live, snapshots: [], held: [] }))
  let start: number
  try {
    start = log.append(Buffer.concat([pageRecord, checkpoint]), 'meta')
    await log.sync()
  } finally {
    log.close()
  }
  await fs.syncDirectory()
  return MetaFile.create(fs, { generation: 0, pageSize, segmentBytes, checkpoint: start + pageRecord.length, checkpointSeq: 0 })
}

/**
 * The segment files an interrupted creation left (its first segment, holding at most the empty
 * root page and the first checkpoint), to remove before creating; throws LEVEL_CORRUPTION if the
 * segments hold more: then META was lost from a real database, and removing them would destroy it.
 */
function leftFromCreation(fs: FileSystem): string[] {
  const segments = fs.list().filter((name) => SEGMENT_PATTERN.test(name))
  const log = new SegmentLog(fs, DEFAULT_SEGMENT_BYTES)
  try {
    for (const n of log.segments()) {
      const records = [...log.scanSegment(n, 'meta')]
      const onlyCreation = n === 1 && records.length <= 2 && records.every((r) => r.type === RecordType.PAGE || (r.type === RecordType.CHECKPOINT && decodeCheckpoint(r.payload, segmentName(n), offsetOf(r.address)).seq === 0))
      if (!onlyCreation) {
        throw new StrataError(ErrorCode.CORRUPTION, `${fs.location}/META is missing or empty (no meta slot at offset 0), but ${segmentName(n)} holds a database's records`)
      }
    }
  } finally {
    log.close()
  }
  return segments
}

function unreachable(): never {
  throw new Error('strata: invariant broken: a new tree has no pages to read')
}
