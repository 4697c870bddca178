import {
  Cursor,
  DEFAULT_PAGE_SIZE,
  type Engine,
  type EngineCursor,
  type EngineSnapshot,
  type EngineStats,
  inlineLimit,
  isRef,
  lookup,
  type Node,
  type Operation,
  type PageSource,
  type Range,
  type WriteOptions,
} from '@strata/btree'
import { assert, ErrorCode, type FileSystem, type Purpose, StrataError } from '@strata/storage'
import { batchRecordBytes, decodeBatch, encodeBatch, encodeValue, type LoggedOperation, valueRecordBytes } from './batch.js'
import { checkDatabase } from './check.js'
import { type CheckpointPolicy, checkPolicy, checkpoint, DEFAULT_CHECKPOINT_POLICY, wantsCheckpoint } from './checkpoint.js'
import type { Database } from './database.js'
import { PerSnapshotStore } from './per-snapshot-store.js'
import type { StoreMode } from './preimage-store.js'
import { RECORD_HEADER_BYTES } from './record.js'
import { openDatabase } from './recovery.js'
import { SharedStore } from './shared-store.js'
import type { CowSnapshot } from './snapshots.js'
import { WAL_FILE } from './wal.js'
import { walValueAddress } from './wal-values.js'

/** Options of {@link CowEngine.open}. */
export interface CowEngineOptions {
  /** The folder the database lives in. */
  fs: FileSystem
  /** Page size of a new database (existing ones keep theirs). Default 4096. */
  pageSize?: number
  /** How snapshots keep pre-images: one store per snapshot (classic LVM) or one shared store. Default 'shared'. */
  store?: StoreMode
  checkpoint?: Partial<CheckpointPolicy>
  /** Create the database if the folder has none. Default true. */
  createIfMissing?: boolean
  /** Fail if the folder already has a database. Default false. */
  errorIfExists?: boolean
}

/**
 * The copy-before-write engine (docs/architecture.md §The copy-before-write engine): the same
 * B+tree as the ROW engine, with pages at fixed places in pages.db, updated in place at
 * checkpoints through a WAL of full page images. A snapshot pins a root in memory; before a page
 * is first overwritten after it, the page's old content is copied to the snapshot's pre-image
 * store, and snapshot reads take pages from there when present.
 */
export class CowEngine implements Engine {
  readonly pageSize: number
  readonly storeMode: StoreMode
  readonly #db: Database
  readonly #policy: CheckpointPolicy
  /** The newest state that is durable (or written, for sync: false) and so visible to readers. */
  #visible: Node
  #queue: Promise<unknown> = Promise.resolve()
  #closed = false
  #checkpointQueued = false
  #checkpointing = false
  /** Snapshots released while a checkpoint was copying pre-images: their stores go after it. */
  #retired: CowSnapshot[] = []

  private constructor(db: Database, policy: CheckpointPolicy, storeMode: StoreMode) {
    this.#db = db
    this.#policy = policy
    this.storeMode = storeMode
    this.pageSize = db.pageSize
    this.#visible = db.tree.freeze()
  }

  /** Opens (or creates) the database in `options.fs`, recovering to the newest valid commit. */
  static async open(options: CowEngineOptions): Promise<CowEngine> {
    const { fs } = options
    const mode = options.store ?? 'shared'
    if (mode !== 'shared' && mode !== 'per-snapshot') throw new TypeError(`store must be 'shared' or 'per-snapshot', received ${String(mode)}`)
    const policy = checkPolicy({ ...DEFAULT_CHECKPOINT_POLICY, ...options.checkpoint })
    fs.lock()
    try {
      const db = await openDatabase({
        fs,
        pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
        createIfMissing: options.createIfMissing !== false,
        errorIfExists: options.errorIfExists === true,
        openStore: (pageSize) => (mode === 'shared' ? new SharedStore(fs, pageSize) : new PerSnapshotStore(fs, pageSize)),
      })
      return new CowEngine(db, policy, mode)
    } catch (error) {
      fs.unlock()
      throw error
    }
  }

  get seq(): number {
    return this.#db.seq
  }

  // ── Reads ────────────────────────────────────────────────────────────────────

  get(key: Uint8Array, at?: EngineSnapshot): Buffer | undefined {
    this.#assertOpen()
    const snapshot = at ? this.#own(at) : undefined
    const source: PageSource = snapshot ? snapshot.source : this.#db
    const value = lookup(source, snapshot ? snapshot.root : this.#visible, key)
    if (value === undefined || !isRef(value)) return value
    return source.readValue(value)
  }

  iterate(range: Range = {}, at?: EngineSnapshot): EngineCursor {
    this.#assertOpen()
    // A cursor reads through a snapshot it holds (its own, without `at`), so the pre-images of
    // the state it reads stay until it closes, even if `at` is released first.
    const snapshot = at ? this.#own(at) : this.#snapshot(true)
    if (at) snapshot.hold()
    const done = () => (at ? snapshot.unhold() : snapshot.release())
    let cursor: Cursor
    try {
      cursor = new Cursor(snapshot.source, snapshot.root, range)
    } catch (error) {
      done()
      throw error
    }
    let closed = false
    return {
      next: () => {
        if (closed) return undefined
        this.#assertOpen()
        return cursor.next()
      },
      seek: (target) => {
        if (closed) return
        this.#assertOpen()
        cursor.seek(target)
      },
      close: () => {
        if (closed) return
        closed = true
        done()
      },
    }
  }

  snapshot(): EngineSnapshot {
    this.#assertOpen()
    return this.#snapshot(false)
  }

  #snapshot(implicit: boolean): CowSnapshot {
    const db = this.#db
    const snapshot = db.snapshots.create(db.seq, db.epoch, this.#visible, implicit, (s) => this.#retire(s))
    snapshot.source = db.sourceFor(snapshot)
    return snapshot
  }

  #own(at: EngineSnapshot): CowSnapshot {
    if (!this.#db.snapshots.owns(at)) throw new TypeError('snapshot does not belong to this engine')
    if (at.released) throw new StrataError(ErrorCode.SNAPSHOT_NOT_OPEN, 'snapshot was released')
    return at
  }

  /** A snapshot is released and no cursor reads it: its pre-images can go (after a checkpoint copying them). */
  #retire(snapshot: CowSnapshot): void {
    if (this.#closed) return
    if (this.#checkpointing) this.#retired.push(snapshot)
    else this.#dropStore(snapshot)
  }

  #dropStore(snapshot: CowSnapshot): void {
    this.#db.store.release(snapshot)
    this.#db.values.prune(this.#db.snapshots.oldestEpoch())
  }

  // ── Writes ───────────────────────────────────────────────────────────────────

  write(ops: Operation[], options: WriteOptions = {}): Promise<void> {
    try {
      this.#assertOpen()
      for (const op of ops) {
        if (!Buffer.isBuffer(op.key)) throw new TypeError('key must be a Buffer')
        if (op.type === 'put') {
          if (!Buffer.isBuffer(op.value)) throw new TypeError('value must be a Buffer')
          this.#db.tree.checkEntry(op.key, op.value)
        } else if (op.type === 'del') {
          this.#db.tree.checkEntry(op.key)
        } else {
          throw new TypeError(`unknown operation type ${(op as { type: unknown }).type}`)
        }
      }
    } catch (error) {
      return Promise.reject(error)
    }
    if (ops.length === 0) return Promise.resolve()
    return this.#serial(() => this.#commit(ops, options.sync !== false))
  }

  /**
   * Commits one batch:
   * 1. Lay out the records: each large value in a VALUE record, named by its LSN, then the BATCH record.
   * 2. Append them to the WAL with one write (a failed write is cut back off).
   * 3. With sync, wait until they are durable: a batch is never visible before it is durable.
   * 4. Apply the batch to the head tree and publish the new root to readers.
   * 5. Queue a checkpoint if the policy asks for one.
   */
  async #commit(ops: Operation[], sync: boolean): Promise<void> {
    const db = this.#db
    if (db.wal.broken) throw new StrataError(ErrorCode.IO_ERROR, 'an earlier write failed; reopen the database', { cause: db.wal.broken })
    const seq = db.seq + 1
    const limit = inlineLimit(this.pageSize)
    const salt = db.wal.salt
    const start = db.wal.end
    let userBytes = 0
    let valueBytes = 0
    // 1. Large values first, each a VALUE record that the batch names by LSN.
    const isLarge = (op: Operation) => op.type === 'put' && op.key.length + op.value.length > limit
    const logged: LoggedOperation[] = ops.map((op) => {
      userBytes += op.key.length + (op.type === 'put' ? op.value.length : 0)
      if (op.type === 'del' || !isLarge(op)) return op
      valueBytes += valueRecordBytes(op.key.length, op.value.length)
      return { type: 'put', key: op.key, value: { address: 0, length: op.value.length } }
    })
    const buf = Buffer.allocUnsafe(valueBytes + batchRecordBytes(logged))
    let at = 0
    ops.forEach((op, i) => {
      if (op.type === 'del' || !isLarge(op)) return
      encodeValue(op.key, op.value, buf, at, salt)
      logged[i] = { type: 'put', key: op.key, value: { address: walValueAddress(start + at), length: op.value.length } }
      at += valueRecordBytes(op.key.length, op.value.length)
    })
    encodeBatch(seq, logged, buf, at, salt)
    // The tree keeps views of the record's copies of keys and values, not the caller's buffers.
    const applied = decodeBatch(buf.subarray(at + RECORD_HEADER_BYTES), WAL_FILE, start + at).ops
    // 2. One write.
    const written = db.wal.append(buf, 'log')
    assert(written === start, 'the WAL moved between layout and append')
    if (valueBytes > 0) db.fs.io.reassign('log', 'value', valueBytes)
    db.fs.io.countUser(userBytes)
    // 3. Durable before visible.
    if (sync) await db.wal.sync()
    // 4. Apply and publish. A failure here (a corrupt page read on the way) leaves the head unlike
    // the WAL, so the engine takes no more writes until it is reopened and recovers.
    try {
      db.apply(seq, applied)
    } catch (error) {
      db.wal.fail(error as Error)
      throw error
    }
    this.#visible = db.tree.freeze()
    // 5. Checkpoint when the WAL is large against the pages the head dirtied.
    if (!this.#checkpointQueued && wantsCheckpoint(this.#policy, db.wal.logged, db.dirtied)) {
      this.#checkpointQueued = true
      void this.#serial(() => {
        this.#checkpointQueued = false
        return this.#checkpoint('page')
      }).catch(() => {
        // The WAL is marked failed: every later write rejects with STRATA_IO_ERROR naming this
        // error as its cause, and reads go on.
      })
    }
  }

  /** Runs `task` after every queued write, checkpoint and compaction. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task)
    this.#queue = run.catch(() => undefined)
    return run
  }

  // ── Checkpoints and compaction ───────────────────────────────────────────────

  /** Writes the head's changed pages in place now and starts a new WAL generation. */
  checkpoint(): Promise<void> {
    try {
      this.#assertOpen()
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#serial(async () => {
      this.#assertWritable()
      await this.#checkpoint('page')
    })
  }

  async #checkpoint(purpose: Purpose, force = false): Promise<void> {
    if (this.#db.wal.broken) return
    this.#checkpointing = true
    try {
      await checkpoint(this.#db, purpose, force)
    } finally {
      this.#checkpointing = false
      for (const snapshot of this.#retired.splice(0)) this.#dropStore(snapshot)
    }
  }

  /**
   * Reclaims space (docs/architecture.md §COW compaction):
   * 1. Checkpoint, so every page the head uses is in place.
   * 2. Give the free-list chain's pages back, and cut free pages off the end of pages.db that no
   *    live snapshot may still read.
   * 3. Checkpoint again: the free list moves to the lowest free pages, the meta takes the new size.
   * 4. Truncate pages.db. (Released snapshots' stores went when they were released.)
   */
  compact(): Promise<void> {
    try {
      this.#assertOpen()
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#serial(async () => {
      this.#assertWritable()
      const db = this.#db
      // 1. Flush.
      await this.#checkpoint('reclaim')
      this.#assertWritable()
      // 2. Shrink, sparing what snapshots may read.
      const next = db.epoch + 1
      db.table.shrink((page) => {
        const range = db.table.oldContent(page, next)
        return range !== undefined && db.snapshots.anyWithin(range)
      })
      // 3. Persist the new free list and size.
      await this.#checkpoint('reclaim', true)
      this.#assertWritable()
      // 4. Cut the file.
      db.pages.truncatePages(db.table.pageCount)
    })
  }

  // ── Inspection and lifecycle ─────────────────────────────────────────────────

  stats(): EngineStats {
    const db = this.#db
    const fileBytes = db.fileBytes()
    const liveBytes = db.tree.dataBytes
    return {
      engine: 'cow',
      seq: db.seq,
      io: db.fs.io.report(),
      fileBytes,
      liveBytes,
      spaceAmplification: liveBytes === 0 ? 0 : fileBytes / liveBytes,
      pageSize: this.pageSize,
      pinnedSnapshots: db.snapshots.count,
      checkpoints: db.checkpoints,
      storeMode: this.storeMode,
      pageCount: db.table.pageCount,
      freePages: db.table.freeCount,
      walBytes: db.wal.fileBytes(),
      preimageBytes: db.store.bytes(),
      snapshotStores: db.snapshots
        .all()
        .filter((s) => !s.implicit)
        .map((s) => ({ seq: s.seq, bytes: db.store.bytesOf(s) })),
    }
  }

  check(): string[] {
    this.#assertOpen()
    return checkDatabase(this.#db)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#queue
    try {
      await this.#checkpoint('page')
    } finally {
      this.#db.close()
      this.#db.fs.unlock()
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StrataError(ErrorCode.NOT_OPEN, 'engine is closed')
  }

  #assertWritable(): void {
    const broken = this.#db.wal.broken
    if (broken) throw new StrataError(ErrorCode.IO_ERROR, 'an earlier write failed; reopen the database', { cause: broken })
  }
}
