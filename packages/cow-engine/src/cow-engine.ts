import { beginClone, type Change, type CloneOptions, type CloneResult, type Clones, checkCacheSize, checkOperations, checkPositiveFields, checkSnapshotArguments, copyOperations, DEFAULT_PAGE_SIZE, type DiffCost, type Engine, type EngineCursor, type EngineSnapshot, type EngineStats, engineStats, type NamedSnapshotInfo, type NamedSnapshots, type Operation, type Range, type RecoveryProgress, endClone, refuseUnfinishedClone, TaskQueue, type WriteOptions } from '@strata/btree'
import { ErrorCode, type FileSystem, OverlayFileSystem, type Purpose, StrataError } from '@strata/storage'
import { checkDatabase } from './check.js'
import { checkCloneTarget, copyDatabaseFiles } from './clone.js'
import { type CheckpointChanges, type CheckpointPolicy, checkpoint, DEFAULT_CHECKPOINT_POLICY, wantsCheckpoint } from './checkpoint.js'
import { commit } from './commit.js'
import type { Database } from './database.js'
import { createNamed, deleteNamed, NamedHandle, type NamedHost, namedSnapshot, registerNamed, restoreNamed, snapshotInfo } from './named.js'
import { PerSnapshotStore } from './per-snapshot-store.js'
import type { StoreMode } from './preimage-store.js'
import { openDatabase } from './recovery.js'
import { Reads } from './reads.js'
import { SharedStore } from './shared-store.js'
import type { CowSnapshot } from './snapshots.js'

/** Options of {@link CowEngine.open}. */
export interface CowEngineOptions {
  /** The folder the database lives in. */
  fs: FileSystem
  /** Page size of a new database (existing ones keep theirs). Default 4096. */
  pageSize?: number
  /**
   * How snapshots keep pre-images: one store per snapshot (classic LVM) or one shared store.
   * Default 'shared'. A database holding named snapshots keeps the mode they were made in.
   */
  store?: StoreMode
  checkpoint?: Partial<CheckpointPolicy>
  /**
   * Bytes of clean pages kept in memory (docs/architecture.md §The page cache); a page not held is
   * read from the file again. A non-negative integer; default 64 MiB.
   */
  cacheSize?: number
  /**
   * Called as an open replays the WAL after a crash: as it starts, after each run of batches, and when it is
   * done (docs/architecture.md §Replay). Not called when there is nothing to replay.
   */
  onRecovery?: (progress: RecoveryProgress) => void
  /** Create the database if the folder has none. Default true. */
  createIfMissing?: boolean
  /** Fail if the folder already has a database. Default false. */
  errorIfExists?: boolean
  /**
   * Open for reading only: take the lock, but never create a database, recover through an
   * {@link OverlayFileSystem} (a checkpoint to redo, copies to repair, a WAL tail to cut are seen
   * by reads and reach no file), and never checkpoint; writes, checkpoints, compaction and creating,
   * deleting or restoring a named snapshot reject with LEVEL_READONLY. The files are left exactly
   * as they were. Default false.
   */
  readOnly?: boolean
}

/**
 * The copy-before-write engine (docs/architecture.md §The copy-before-write engine): the same
 * B+tree as the ROW engine, with pages at fixed places in pages.db, updated in place at
 * checkpoints through a WAL of full page images. A snapshot pins a root in memory; before a page
 * is first overwritten after it, the page's old content is copied to the snapshot's pre-image
 * store, and snapshot reads take pages from there when present. Named snapshots are durable: each
 * is a checkpoint's state, recorded in the catalogue with the list of its copies.
 */
export class CowEngine implements Engine, NamedSnapshots, Clones {
  readonly pageSize: number
  readonly #db: Database
  readonly #policy: CheckpointPolicy
  /** The visible state, snapshots, cursors and diffs. */
  readonly #reads: Reads
  readonly #tasks = new TaskQueue()
  #closed = false
  #checkpointQueued = false
  #checkpointing = false
  /** Snapshots released while a checkpoint was copying pre-images: their stores go after it. */
  #retired: CowSnapshot[] = []
  /** What the named snapshot procedures (named.ts) use of the engine. */
  readonly #host: NamedHost
  /** Set from {@link CowEngineOptions.readOnly}: the database reads through an overlay, and nothing is written. */
  readonly #readOnly: boolean

  private constructor(db: Database, policy: CheckpointPolicy, readOnly: boolean) {
    this.#db = db
    this.#policy = policy
    this.#readOnly = readOnly
    this.pageSize = db.pageSize
    this.#reads = new Reads(db, (s) => this.#retire(s), () => this.#assertOpen())
    this.#host = {
      db,
      reads: this.#reads,
      checkpoint: (purpose, force, changes) => this.#checkpoint(purpose, force, changes),
      assertWritable: () => this.#assertWritable(),
      retire: (s) => this.#retire(s),
    }
    registerNamed(db, (s) => this.#retire(s))
  }

  /**
   * Opens (or creates) the database in `options.fs`, recovering to the newest valid commit.
   * STRATA_CLONE_INCOMPLETE if the folder holds a clone cut short.
   */
  static open(options: CowEngineOptions): Promise<CowEngine> {
    return CowEngine.#open(options, false)
  }

  /** {@link open}; `ofClone` opens a clone still under way, whose marker is there (clone.ts). */
  static async #open(options: CowEngineOptions, ofClone: boolean): Promise<CowEngine> {
    const readOnly = options.readOnly === true
    // A read-only open recovers as any open does; what recovery writes stays in memory.
    const fs = readOnly ? new OverlayFileSystem(options.fs) : options.fs
    const mode = options.store ?? 'shared'
    if (mode !== 'shared' && mode !== 'per-snapshot') throw new TypeError(`store must be 'shared' or 'per-snapshot', received ${String(mode)}`)
    const policy = checkPositiveFields({ ...DEFAULT_CHECKPOINT_POLICY, ...options.checkpoint })
    const cacheSize = checkCacheSize(options.cacheSize)
    fs.lock()
    let db: Database | undefined
    try {
      if (!ofClone) refuseUnfinishedClone(fs)
      db = await openDatabase({
        fs,
        pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
        createIfMissing: !readOnly && options.createIfMissing !== false,
        errorIfExists: options.errorIfExists === true,
        mode,
        openStore: (storeMode, pageSize) => (storeMode === 'shared' ? new SharedStore(fs, pageSize) : new PerSnapshotStore(fs, pageSize)),
        cacheSize,
        onRecovery: options.onRecovery,
      })
      return new CowEngine(db, policy, readOnly)
    } catch (error) {
      db?.close()
      fs.unlock()
      throw error
    }
  }

  get seq(): number {
    return this.#reads.seq
  }

  /** How this database keeps pre-images. */
  get storeMode(): StoreMode {
    return this.#db.store.mode
  }

  // ── Reads (reads.ts) ─────────────────────────────────────────────────────────

  get(key: Uint8Array, at?: EngineSnapshot): Buffer | undefined {
    this.#assertOpen()
    return this.#reads.get(key, at)
  }

  /** {@link get}, reading pages not in memory without blocking the event loop (reads.ts). */
  getAsync(key: Uint8Array, at?: EngineSnapshot): Promise<Buffer | undefined> {
    try {
      this.#assertOpen()
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#reads.getAsync(key, at)
  }

  /** A cursor; it reads through a snapshot it holds, so releasing `at` before closing it is safe. */
  iterate(range: Range = {}, at?: EngineSnapshot): EngineCursor {
    this.#assertOpen()
    return this.#reads.iterate(range, at)
  }

  snapshot(): EngineSnapshot {
    this.#assertOpen()
    return this.#reads.snapshot(false)
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

  // ── Named snapshots ─────────────────────────────────────────────────────────

  /**
   * Names the visible state, durably (named.ts): one checkpoint writes the head in place and the
   * catalogue with the new record, so its cost grows with the pages dirtied since the last
   * checkpoint, not with the database. From then on the snapshot gets a copy of each page before
   * its first overwrite.
   */
  createSnapshot(name: string, meta: Buffer = Buffer.alloc(0)): Promise<NamedSnapshotInfo> {
    return this.#tasks.runChecked(() => {
      this.#assertOpen()
      checkSnapshotArguments(name, meta)
    }, () => createNamed(this.#host, name, meta))
  }

  listSnapshots(): NamedSnapshotInfo[] {
    this.#assertOpen()
    return this.#db.snapshots
      .named()
      .map((s) => snapshotInfo(this.#db, s))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  openSnapshot(name: string): EngineSnapshot {
    this.#assertOpen()
    return new NamedHandle(namedSnapshot(this.#db, name))
  }

  /** Deletes a named snapshot: a checkpoint writes the catalogue without it; its copies go once no reader holds it. */
  deleteSnapshot(name: string): Promise<void> {
    return this.#tasks.runChecked(() => this.#assertOpen(), () => deleteNamed(this.#host, name))
  }

  /**
   * Makes the head the named snapshot's state, as one durable commit at the next sequence number
   * (named.ts, restore.ts): the cost grows with what changed since the snapshot. Readers see the
   * old state until the restore is durable, and keep seeing it if the restore fails.
   */
  restoreSnapshot(name: string): Promise<void> {
    return this.#tasks.runChecked(() => this.#assertOpen(), () => restoreNamed(this.#host, name))
  }

  /**
   * Makes a new database in the empty folder `target` at snapshot `name`'s state (the head's if
   * undefined), durable when it resolves (docs/snapshots.md §Clones). Pages are updated in place
   * here, so nothing can be shared: after a checkpoint every file is copied (a reflink where the
   * file system has them, else every byte), and the clone then restores `name` and deletes the
   * snapshots it is not to keep, each durably as on any database. `link` is ignored.
   */
  clone(name: string | undefined, target: FileSystem, options: CloneOptions = {}): Promise<CloneResult> {
    return this.#tasks.runChecked(() => this.#assertOpen(), async () => {
      this.#assertWritable()
      checkCloneTarget(this.#db, name, target)
      const writtenBefore = target.io.report().totalWritten
      // Until the clone is whole, an open of `target` refuses it.
      await beginClone(target)
      // The head and every named snapshot whole in the files, nothing of them in the WAL alone.
      await this.#checkpoint('meta', true)
      this.#assertWritable()
      const result = await copyDatabaseFiles(this.#db, target)
      const clone = await CowEngine.#open({ fs: target, createIfMissing: false, store: this.storeMode, cacheSize: this.#db.cache.budget }, true)
      try {
        if (name !== undefined) await clone.restoreSnapshot(name)
        if (options.snapshots !== true) for (const other of clone.listSnapshots()) await clone.deleteSnapshot(other.name)
      } finally {
        // Closing checkpoints: the clone's own state is durable before it resolves.
        await clone.close()
      }
      await endClone(target)
      result.bytesWritten += target.io.report().totalWritten - writtenBefore
      return result
    })
  }

  /** The changes from `from` to `to` (undefined: the head), in key order; both states are held while the walk goes on. */
  diff(from: EngineSnapshot | undefined, to: EngineSnapshot | undefined, cost?: DiffCost): Iterable<Change> {
    this.#assertOpen()
    return this.#reads.diff(from, to, cost)
  }

  // ── Writes ───────────────────────────────────────────────────────────────────

  write(ops: Operation[], options: WriteOptions = {}): Promise<void> {
    try {
      this.#assertOpen()
      this.#assertNotReadOnly()
      checkOperations(ops, this.#db.tree)
    } catch (error) {
      return Promise.reject(error)
    }
    if (ops.length === 0) return Promise.resolve()
    const owned = copyOperations(ops)
    // Batches written while the queue is busy share one append and at most one sync.
    return this.#tasks.joinWrite(owned, options.sync !== false, async (group) => {
      const db = this.#db
      await commit(db, group)
      this.#reads.visible = db.tree.freeze()
      // Checkpoint when the WAL is large against the pages the head dirtied.
      const space = { liveBytes: db.tree.dataBytes, headBytes: db.pages.size() + db.wal.fileBytes(), pageBytes: db.pages.size() }
      if (!this.#checkpointQueued && wantsCheckpoint(this.#policy, db.wal.logged, db.dirtied, space)) {
        this.#checkpointQueued = true
        // A failure marks the WAL failed: every later write rejects with STRATA_IO_ERROR naming
        // it as its cause, and reads go on.
        this.#tasks.runInBackground(() => {
          this.#checkpointQueued = false
          return this.#checkpoint('page')
        })
      }
    })
  }

  // ── Checkpoints and compaction ───────────────────────────────────────────────

  /** Writes the head's changed pages in place now and starts a new WAL generation. */
  checkpoint(): Promise<void> {
    return this.#tasks.runChecked(() => this.#assertOpen(), async () => {
      this.#assertWritable()
      await this.#checkpoint('page')
    })
  }

  async #checkpoint(purpose: Purpose, force = false, changes: CheckpointChanges = {}): Promise<void> {
    if (this.#db.wal.broken) return
    this.#checkpointing = true
    try {
      // Gets reading pages of the visible state keep it through the pages this overwrites.
      this.#reads.holdForGets()
      await checkpoint(this.#db, purpose, force, changes)
    } finally {
      this.#reads.checkpointEnded()
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
    return this.#tasks.runChecked(() => this.#assertOpen(), async () => {
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
    // A closed database has no file open to ask for its links (and stats() does not throw).
    const sharedBytes = this.#closed ? 0 : db.sharedBytes()
    const liveBytes = db.tree.dataBytes
    return {
      ...engineStats('cow', db, { fileBytes, sharedBytes, liveBytes, pageSize: this.pageSize, pinnedSnapshots: db.snapshots.count }),
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
    await this.#tasks.settled()
    try {
      if (!this.#readOnly) await this.#checkpoint('page')
    } finally {
      await Promise.allSettled([...this.#db.readsInFlight])
      this.#db.close()
      this.#db.fs.unlock()
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StrataError(ErrorCode.NOT_OPEN, 'engine is closed')
  }

  #assertNotReadOnly(): void {
    if (this.#readOnly) throw new StrataError(ErrorCode.READONLY, 'the database was opened read-only')
  }

  /** Throws unless writes are possible: not read-only, and no earlier write failed. */
  #assertWritable(): void {
    this.#assertNotReadOnly()
    const broken = this.#db.wal.broken
    if (broken) throw new StrataError(ErrorCode.IO_ERROR, 'an earlier write failed; reopen the database', { cause: broken })
  }
}
