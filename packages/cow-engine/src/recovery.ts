import { decodeBatch, encodeNode, outlineBatch, type RecoveryProgress, ReplayRuns, Tree } from '@strata/btree'
import { corruption, ErrorCode, type FileSystem, holdsBytes, StrataError } from '@strata/storage'
import { Catalogue } from './catalogue.js'
import { type CheckpointRecord, decodeCheckpoint, decodePageRecord, RESTORE_FLAG } from './checkpoint-record.js'
import { Database } from './database.js'
import { readFreeList } from './free-list.js'
import { decodeMetaArea, firstDataPage, isBlankMetaArea, type Meta } from './meta.js'
import { PAGE_FILE, PageFile, type PageWrite, pageNumber } from './page-file.js'
import { PageTable } from './page-table.js'
import { type PreimageStore, removeStoreFiles, type StoreMode } from './preimage-store.js'
import { RecordType } from './record.js'
import { SnapshotRegistry } from './snapshots.js'
import { Wal, WAL_FILE } from './wal.js'

/** What opening a database needs to know. */
export interface OpenRequest {
  fs: FileSystem
  /** Page size of a new database. */
  pageSize: number
  createIfMissing: boolean
  errorIfExists: boolean
  /** The store mode asked for; a catalogue with named snapshots keeps the mode they were made in. */
  mode: StoreMode
  /** Opens the (empty) pre-image store of `mode` for a database of `pageSize`-byte pages. */
  openStore: (mode: StoreMode, pageSize: number) => PreimageStore
  /** The page cache's budget in bytes. */
  cacheSize: number
  onRecovery?: ((progress: RecoveryProgress) => void) | undefined
}

/** A batch found in the WAL after the last complete checkpoint. */
interface LoggedBatch {
  seq: number
  /** Its payload, a view of the WAL as read, and where each operation starts in it (`outlineBatch`). */
  payload: Buffer
  offsets: number[]
  /** Bytes of its record in the WAL. */
  bytes: number
}

/** A checkpoint whose CHECKPOINT record is in the WAL: its record, its page images, and the LSN after it. */
interface CompleteCheckpoint {
  record: CheckpointRecord
  images: PageWrite[]
  after: number
}

/**
 * Opens the database in `request.fs`, creating it if there is none, and recovers the newest
 * durable state (docs/format.md §COW recovery):
 * 1. Read the meta: the newest valid slot names the durable checkpoint and where its WAL begins.
 * 2. Scan the WAL from there: batches with the next sequence numbers, and checkpoint image sets.
 * 3. If the scan met a complete checkpoint (its CHECKPOINT record whole), redo it: first make
 *    sure every copy it listed for a named snapshot is whole in the store (copying it again from
 *    pages.db, which the checkpoint had not yet overwritten, if not), then write its images in
 *    place, sync, write the meta it names, sync. Its batches are in its tree.
 * 4. Read the catalogue the meta names; remove store files no named snapshot uses.
 * 5. Load the free list and the root named by the meta.
 * 6. Replay the batches after the last complete checkpoint, in order.
 * 7. Cut the WAL after the last valid record (or start a new generation if it predates the meta).
 * The named snapshots are registered by the engine, which adopts their copies (named.ts).
 */
export async function openDatabase(request: OpenRequest): Promise<Database> {
  const { fs } = request
  let area = PageFile.readMetaArea(fs)
  if (!isWritten(area)) {
    // Never a second database beside a redirect-on-write one (its META file: docs/format.md).
    if (holdsBytes(fs, 'META')) throw new StrataError(ErrorCode.ENGINE_MISMATCH, `${fs.location} holds a redirect-on-write database (META), not a copy-before-write one`)
    if (!request.createIfMissing) throw new StrataError(ErrorCode.NOT_FOUND, `${fs.location} holds no database`)
    await create(fs, request.pageSize)
    area = PageFile.readMetaArea(fs) as Buffer
  } else if (request.errorIfExists) {
    throw new StrataError(ErrorCode.EXISTS, `${fs.location} already holds a database`)
  }
  // 1. The meta.
  let meta = decodeMetaArea(area, `${fs.location}/${PAGE_FILE}`)
  const pages = PageFile.open(fs, meta.pageSize)
  let wal: Wal | undefined
  let store: PreimageStore | undefined
  try {
    wal = Wal.open(fs, meta.pageSize)
    // 2. Scan what the WAL holds after the meta's checkpoint.
    const scan = scanWal(fs, wal, meta)
    // 3. Redo a checkpoint whose images are all in the WAL, its copies first.
    if (scan.complete) {
      store = await repairCopies(request, pages, scan.complete)
      meta = await redo(pages, meta, scan.complete)
    }
    if (pages.size() > meta.pageCount * meta.pageSize) pages.truncatePages(meta.pageCount)
    // 4. The catalogue, and only the store files its snapshots use.
    const slot = (page: number) => pages.readSlot(page, 'meta')
    const catalogue = Catalogue.read(slot, meta.catalogue, meta.pageCount, meta.pageSize, pages.location)
    const mode = storeMode(catalogue, request.mode)
    const records = [...catalogue.records.values()]
    const holding = records.filter((r) => r.list.count > 0)
    removeStoreFiles(fs, new Set(holding.map((r) => r.id)), mode === 'shared' && holding.length > 0)
    store ??= request.openStore(mode, meta.pageSize)
    // 5. Free list and root.
    const free = readFreeList(slot, meta.freeListHead, meta.freePages, meta.pageCount, meta.pageSize, pages.location)
    const table = new PageTable(meta.pageSize, firstDataPage(meta.pageSize), meta.pageCount, free.entries, free.chain)
    table.metadata(catalogue.pages())
    const db = new Database({ fs, pages, wal, table, snapshots: new SnapshotRegistry(), store, catalogue, meta, cacheSize: request.cacheSize })
    db.tree.replaceRoot(db.loadNode(pageNumber(meta.root)))
    db.tree.dataBytes = meta.dataBytes
    // 6. Replay.
    replay(db, scan.batches, scan.logBytes, request.onRecovery)
    // 7. New records follow the last valid one.
    if (scan.end === undefined) wal.reset(meta.walBase)
    else wal.resume(scan.end)
    await wal.sync()
    return db
  } catch (error) {
    store?.close(() => true)
    wal?.close()
    pages.close()
    throw error
  }
}

/**
 * Whether the folder `fs` holds a database (docs/format.md §COW database folder), reading only:
 * pages.db, with its meta area written.
 */
export function holdsDatabase(fs: FileSystem): boolean {
  return isWritten(PageFile.readMetaArea(fs))
}

/** Whether a meta area read from pages.db (undefined: there is no pages.db) was ever written. */
function isWritten(area: Buffer | undefined): area is Buffer {
  return area !== undefined && !isBlankMetaArea(area)
}

/** The store mode of a database: the one its named snapshots were made in, else the one asked for. */
function storeMode(catalogue: Catalogue, asked: StoreMode): StoreMode {
  return catalogue.records.size > 0 && catalogue.mode !== undefined ? catalogue.mode : asked
}

/**
 * Before a checkpoint is redone: every copy its copy lists gained (the entries on list pages among
 * its images) must be whole in the store before pages.db is overwritten. A copy the crash cut
 * short is made again from pages.db, which still holds the old page: the checkpoint syncs its
 * copies before its first in-place write. Returns the store, opened in the catalogue's mode.
 */
async function repairCopies(request: OpenRequest, pages: PageFile, complete: CompleteCheckpoint): Promise<PreimageStore> {
  const images = new Map(complete.images.map((w) => [w.page, w.image]))
  const overlay = (page: number) => images.get(page) ?? pages.readSlot(page, 'meta')
  const { record } = complete
  const next = Catalogue.read(overlay, record.catalogue, record.pageCount, pages.pageSize, pages.location)
  const store = request.openStore(storeMode(next, request.mode), pages.pageSize)
  const changed = new Set(images.keys())
  for (const r of next.records.values()) store.repair(r.id, r.list.entriesOnPages(changed), (page) => pages.readWholeSlot(page, 'preimage'))
  await store.sync()
  return store
}

/**
 * Applies the batches found after the last complete checkpoint in runs, in key order
 * (docs/architecture.md §Replay), reporting progress to `onRecovery` as it starts, after each run
 * and when it is done.
 */
function replay(db: Database, batches: LoggedBatch[], logBytes: number, onRecovery: OpenRequest['onRecovery']): void {
  if (batches.length === 0) return
  const started = performance.now()
  let replayedBytes = 0
  let replayed = 0
  const report = (done: boolean) => onRecovery?.({ logBytes, replayedBytes, batches: replayed, elapsedMs: performance.now() - started, done })
  report(false)
  const runs = new ReplayRuns(logBytes, {
    applyRun: (seq, each) => db.applyRun(seq, each),
    applyBatch: (seq, ops) => db.apply(seq, ops),
    applied: (count, bytes) => {
      replayedBytes += bytes
      replayed += count
      report(false)
    },
  })
  for (const batch of batches) runs.add(batch.seq, batch.payload, batch.offsets, batch.bytes)
  runs.flush()
  report(true)
}

/** The WAL's records after the meta's checkpoint: the batches to replay, a complete checkpoint to redo, where the valid records end. */
function scanWal(fs: FileSystem, wal: Wal, meta: Meta): { batches: LoggedBatch[]; logBytes: number; complete?: CompleteCheckpoint; end?: number } {
  const where = `${fs.location}/${WAL_FILE}`
  const base = wal.headerBase
  if (base === undefined) {
    // No valid header: a reset cut short leaves none and no records; anything else is damage.
    if (wal.hasRecordBytes()) throw corruption(where, 0, 'bad WAL header')
    return { batches: [], logBytes: 0 }
  }
  if (base > meta.walBase) throw corruption(where, 0, 'the WAL is newer than the meta')
  // A WAL that ends before the meta's LSN is the previous generation, reset cut short.
  if (meta.walBase > wal.end) return { batches: [], logBytes: 0 }
  let seq = meta.seq
  let batches: LoggedBatch[] = []
  let images: PageWrite[] = []
  let complete: CompleteCheckpoint | undefined
  let end = meta.walBase
  for (const r of wal.scan(meta.walBase, 'log')) {
    if (r.type === RecordType.BATCH) {
      const batch = outlineBatch(r.payload, where, r.lsn)
      if (batch.seq !== seq + 1) break
      seq = batch.seq
      batches.push({ seq: batch.seq, payload: r.payload, offsets: batch.offsets, bytes: r.next - r.lsn })
    } else if (r.type === RecordType.PAGE) {
      const { page, image } = decodePageRecord(r.payload, meta.pageSize, where, r.lsn)
      images.push({ page, image, purpose: 'page' })
    } else if (r.type === RecordType.CHECKPOINT) {
      const record = decodeCheckpoint(r.payload, where, r.lsn)
      // A restore's tree is a named snapshot's, at the sequence number after the last batch.
      const expected = (record.flags & RESTORE_FLAG) !== 0 ? seq + 1 : seq
      if (record.images !== images.length || record.seq !== expected) throw corruption(where, r.lsn, 'checkpoint record does not match the records before it')
      seq = record.seq
      complete = { record, images, after: r.next }
      images = []
      batches = []
    }
    end = r.next
  }
  // Power lost mid-write leaves whole records after a lost or torn one only where no completed
  // sync covered them: a crash's leftovers, cut off. A later batch whose durable-through mark
  // passes the bad record proves that record was durable, and a checkpoint's records follow only
  // a synced WAL (checkpoint step 0): the bad record is then damage, and cutting there would drop
  // acknowledged commits, or ignore a checkpoint whose pages may already be in place. (A batch
  // without the mark, from an older version, proves it by a sequence number past the last.)
  for (const later of wal.recordsAfter(end, 'log')) {
    const batch = later.type === RecordType.BATCH ? decodeBatch(later.payload, where, later.lsn) : undefined
    const proves = batch ? (batch.durableThrough === undefined ? batch.seq > seq : batch.durableThrough > end) : later.type === RecordType.CHECKPOINT
    if (!proves) continue
    const what = batch ? `commit ${batch.seq}` : 'a checkpoint'
    throw corruption(where, wal.offsetOf(end), `bad WAL record followed by ${what} at offset ${wal.offsetOf(later.lsn)}`)
  }
  const logBytes = batches.reduce((sum, b) => sum + b.bytes, 0)
  return complete ? { batches, logBytes, complete, end } : { batches, logBytes, end }
}

/** Finishes a checkpoint from its WAL images: the pages in place, then the meta. Idempotent. */
async function redo(pages: PageFile, meta: Meta, complete: CompleteCheckpoint): Promise<Meta> {
  pages.writePages(complete.images)
  await pages.sync()
  const { images: _images, flags: _flags, ...fields } = complete.record
  const next: Meta = { ...meta, ...fields, generation: meta.generation + 1, walBase: complete.after }
  pages.writeMeta(next)
  await pages.sync()
  return next
}

/**
 * Creates an empty database: the root leaf on the first data page, synced, then the meta area,
 * synced. A crash before the meta is durable leaves a blank meta area, which the next open
 * treats as no database, and creates again.
 */
async function create(fs: FileSystem, pageSize: number): Promise<void> {
  if (!Number.isInteger(pageSize) || pageSize < 256 || pageSize > 65536) throw new RangeError('pageSize must be an integer from 256 to 65536')
  removeStoreFiles(fs)
  if (fs.exists(WAL_FILE)) fs.remove(WAL_FILE)
  const pages = PageFile.open(fs, pageSize, true)
  try {
    const root = firstDataPage(pageSize)
    pages.writePages([{ page: root, image: emptyRootImage(pageSize), purpose: 'meta' }])
    await pages.sync()
    pages.writeMetaArea({ generation: 0, pageSize, seq: 0, walBase: 0, dataBytes: 0, root, pageCount: root + 1, freeListHead: 0, freePages: 0, catalogue: 0 })
    await pages.sync()
  } finally {
    pages.close()
  }
  const wal = Wal.open(fs, pageSize)
  try {
    wal.reset(0)
    await wal.sync()
  } finally {
    wal.close()
  }
  await fs.syncDirectory()
}

/** The page image of an empty root leaf (the 16-byte header alone). */
function emptyRootImage(pageSize: number): Buffer {
  const unreachable = (): never => {
    throw new Error('strata: invariant broken: a new tree has no pages to read')
  }
  const tree = new Tree({ pageSize, loadNode: unreachable, readValue: unreachable }, { rewritten() {}, removed() {}, valueRemoved() {} })
  return encodeNode(tree.root)
}
