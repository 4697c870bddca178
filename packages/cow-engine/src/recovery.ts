import { encodeNode, Tree } from '@strata/btree'
import { corruption, ErrorCode, type FileSystem, StrataError } from '@strata/storage'
import { decodeBatch, type LoggedOperation } from './batch.js'
import { type CheckpointRecord, decodeCheckpoint, decodePageRecord } from './checkpoint-record.js'
import { Database } from './database.js'
import { readFreeList } from './free-list.js'
import { decodeMetaArea, firstDataPage, isBlankMetaArea, type Meta } from './meta.js'
import { PAGE_FILE, PageFile, type PageWrite, pageNumber } from './page-file.js'
import { PageTable } from './page-table.js'
import { type PreimageStore, removeStoreFiles } from './preimage-store.js'
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
  /** Opens the (empty) pre-image store for a database of `pageSize`-byte pages. */
  openStore: (pageSize: number) => PreimageStore
}

/** A batch found in the WAL after the last complete checkpoint. */
interface LoggedBatch {
  seq: number
  ops: LoggedOperation[]
}

/**
 * Opens the database in `request.fs`, creating it if there is none, and recovers the newest
 * durable state (docs/format.md §COW recovery):
 * 1. Read the meta: the newest valid slot names the durable checkpoint and where its WAL begins.
 * 2. Scan the WAL from there: batches with the next sequence numbers, and checkpoint image sets.
 * 3. If the scan met a complete checkpoint (its CHECKPOINT record whole), redo it: write its
 *    images in place, sync, write the meta it names, sync. Its batches are in its tree.
 * 4. Load the free list and the root named by the meta.
 * 5. Replay the batches after the last complete checkpoint, in order.
 * 6. Cut the WAL after the last valid record (or start a new generation if it predates the meta).
 * Leftover pre-image store files are removed: no snapshot outlives its engine.
 */
export async function openDatabase(request: OpenRequest): Promise<Database> {
  const { fs } = request
  let area = PageFile.readMetaArea(fs)
  if (area === undefined || isBlankMetaArea(area)) {
    if (!request.createIfMissing) throw new StrataError(ErrorCode.NOT_FOUND, `${fs.location} holds no database`)
    await create(fs, request.pageSize)
    area = PageFile.readMetaArea(fs) as Buffer
  } else if (request.errorIfExists) {
    throw new StrataError(ErrorCode.EXISTS, `${fs.location} already holds a database`)
  }
  // 1. The meta.
  let meta = decodeMetaArea(area, `${fs.location}/${PAGE_FILE}`)
  removeStoreFiles(fs)
  const pages = PageFile.open(fs, meta.pageSize)
  let wal: Wal | undefined
  let store: PreimageStore | undefined
  try {
    wal = Wal.open(fs, meta.pageSize)
    // 2. Scan what the WAL holds after the meta's checkpoint.
    const scan = scanWal(fs, wal, meta)
    // 3. Redo a checkpoint whose images are all in the WAL.
    if (scan.complete) meta = await redo(pages, meta, scan.complete)
    if (pages.size() > meta.pageCount * meta.pageSize) pages.truncatePages(meta.pageCount)
    // 4. Free list and root.
    const slot = (page: number) => pages.readSlot(page, 'meta')
    const free = readFreeList(slot, meta.freeListHead, meta.freePages, meta.pageCount, meta.pageSize, pages.location)
    const table = new PageTable(meta.pageSize, firstDataPage(meta.pageSize), meta.pageCount, free.entries, free.chain)
    store = request.openStore(meta.pageSize)
    const db = new Database({ fs, pages, wal, table, snapshots: new SnapshotRegistry(), store, meta })
    db.tree.replaceRoot(db.loadNode(pageNumber(meta.root)))
    db.tree.dataBytes = meta.dataBytes
    // 5. Replay.
    for (const batch of scan.batches) db.apply(batch.seq, batch.ops)
    // 6. New records follow the last valid one.
    if (scan.end === undefined) wal.reset(meta.walBase)
    else wal.resume(scan.end)
    await wal.sync()
    return db
  } catch (error) {
    store?.close()
    wal?.close()
    pages.close()
    throw error
  }
}

/** The WAL's records after the meta's checkpoint: the batches to replay, a complete checkpoint to redo, where the valid records end. */
function scanWal(fs: FileSystem, wal: Wal, meta: Meta): { batches: LoggedBatch[]; complete?: { record: CheckpointRecord; images: PageWrite[]; after: number }; end?: number } {
  const where = `${fs.location}/${WAL_FILE}`
  const base = wal.headerBase
  if (base === undefined) {
    // No valid header: a reset cut short leaves none and no records; anything else is damage.
    if (wal.hasRecordBytes()) throw corruption(where, 0, 'bad WAL header')
    return { batches: [] }
  }
  if (base > meta.walBase) throw corruption(where, 0, 'the WAL is newer than the meta')
  // A WAL that ends before the meta's LSN is the previous generation, reset cut short.
  if (meta.walBase > wal.end) return { batches: [] }
  let seq = meta.seq
  let batches: LoggedBatch[] = []
  let images: PageWrite[] = []
  let complete: { record: CheckpointRecord; images: PageWrite[]; after: number } | undefined
  let end = meta.walBase
  for (const r of wal.scan(meta.walBase, 'log')) {
    if (r.type === RecordType.BATCH) {
      const batch = decodeBatch(r.payload, where, r.lsn)
      if (batch.seq !== seq + 1) break
      seq = batch.seq
      batches.push(batch)
    } else if (r.type === RecordType.PAGE) {
      const { page, image } = decodePageRecord(r.payload, meta.pageSize, where, r.lsn)
      images.push({ page, image, purpose: 'page' })
    } else if (r.type === RecordType.CHECKPOINT) {
      const record = decodeCheckpoint(r.payload, where, r.lsn)
      if (record.images !== images.length || record.seq !== seq) throw corruption(where, r.lsn, 'checkpoint record does not match the records before it')
      complete = { record, images, after: r.next }
      images = []
      batches = []
    }
    end = r.next
  }
  // A crash tears only the last write, so a later commit or checkpoint can follow a bad record
  // only if the bad record is damage: cutting the WAL there would drop acknowledged commits, or
  // ignore a checkpoint whose pages may already be in place.
  for (const later of wal.recordsAfter(end, 'log')) {
    const laterSeq = later.type === RecordType.BATCH ? decodeBatch(later.payload, where, later.lsn).seq : undefined
    if (later.type !== RecordType.CHECKPOINT && (laterSeq === undefined || laterSeq <= seq)) continue
    const what = laterSeq === undefined ? 'a checkpoint' : `commit ${laterSeq}`
    throw corruption(where, wal.offsetOf(end), `bad WAL record followed by ${what} at offset ${wal.offsetOf(later.lsn)}`)
  }
  return complete ? { batches, complete, end } : { batches, end }
}

/** Finishes a checkpoint from its WAL images: the pages in place, then the meta. Idempotent. */
async function redo(pages: PageFile, meta: Meta, complete: { record: CheckpointRecord; images: PageWrite[]; after: number }): Promise<Meta> {
  pages.writePages(complete.images)
  await pages.sync()
  const { images: _images, ...fields } = complete.record
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
    pages.writeMetaArea({ generation: 0, pageSize, seq: 0, walBase: 0, dataBytes: 0, root, pageCount: root + 1, freeListHead: 0, freePages: 0 })
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
