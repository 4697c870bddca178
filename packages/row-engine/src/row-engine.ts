import {
  type Change,
  checkOperations,
  type CloneOptions,
  type CloneResult,
  type Clones,
  checkSnapshotArguments,
  copyOperations,
  type DiffCost,
  type Engine,
  type EngineCursor,
  type EngineSnapshot,
  type EngineStats,
  engineStats,
  type NamedSnapshotInfo,
  type NamedSnapshots,
  type Node,
  type Operation,
  type PageAddress,
  type PageSource,
  type Range,
  type RecoveryProgress,
  refuseUnfinishedClone,
  type TreeEvents,
  type ValueRef,
  type WriteOptions,
} from '@strata/btree'
import { ErrorCode, type FileSystem, StrataError } from '@strata/storage'
import { checkDatabase } from './check.js'
import { cloneDatabase } from './clone.js'
import { type CheckpointPolicy, checkPolicy, checkpoint, DEFAULT_CHECKPOINT_POLICY } from './checkpoint.js'
import { cleanSegments, removeEmptySegments, victims } from './cleaning.js'
import { submit } from './commit.js'
import type { Database } from './database.js'
import { createNamed, deleteNamed, openNamed, restoreNamed, snapshotInfo } from './named.js'
import { diff, get, getAsync, iterate, snapshot } from './reads.js'
import { openDatabase } from './recovery.js'

/** Options of {@link RowEngine.open}. */
export interface RowEngineOptions {
  /** The folder the database lives in. */
  fs: FileSystem
  /** Page size of a new database (existing ones keep theirs). Default 4096. */
  pageSize?: number
  /** Size at which the log starts a new segment. Default 64 MiB. */
  segmentBytes?: number
  /**
   * Bytes of clean pages kept in memory (docs/architecture.md §The page cache); a page not held is
   * read from the file again. A non-negative integer; default 64 MiB.
   */
  cacheSize?: number
  checkpoint?: Partial<CheckpointPolicy>
  /**
   * Called as an open replays the log after a crash: as it starts, after each run of batches,
   * and when it is done (docs/architecture.md §Replay). Not called when there is nothing to replay.
   */
  onRecovery?: (progress: RecoveryProgress) => void
  /** Create the database if the folder has none. Default true. */
  createIfMissing?: boolean
  /** Fail if the folder already has a database. Default false. */
  errorIfExists?: boolean
  /**
   * Open for reading only: take the lock, but never create a database, recover the head in memory
   * without cutting the log's tail, and never checkpoint; writes and compaction reject with
   * LEVEL_READONLY. The files are left exactly as they were. Default false.
   */
  readOnly?: boolean
}

/**
 * The redirect-on-write engine: a B+tree whose pages are never overwritten, in an append-only
 * segmented log (docs/architecture.md). A commit appends its batch as one record; dirty pages are
 * written elsewhere at checkpoints; a snapshot is a pinned root.
 */
export class RowEngine implements Engine, NamedSnapshots, Clones, PageSource, TreeEvents {
  readonly pageSize: number
  /** The open database: the state commits, checkpoints, cleaning, reads and recovery share. */
  readonly #db: Database

  private constructor(db: Database) {
    this.#db = db
    this.pageSize = db.pageSize
  }

  /** Opens (or creates) the database in `options.fs`, recovering to the newest valid commit. */
  static async open(options: RowEngineOptions): Promise<RowEngine> {
    const { fs } = options
    const policy = checkPolicy({ ...DEFAULT_CHECKPOINT_POLICY, ...options.checkpoint })
    fs.lock()
    try {
      refuseUnfinishedClone(fs)
      return new RowEngine(await openDatabase(options, policy))
    } catch (error) {
      fs.unlock()
      throw error
    }
  }

  get seq(): number {
    return this.#db.seq
  }

  // ── Reads (reads.ts) ─────────────────────────────────────────────────────────

  get(key: Uint8Array, at?: EngineSnapshot): Buffer | undefined {
    this.#db.assertOpen()
    return get(this.#db, key, at)
  }

  /** {@link get}, reading pages not in memory without blocking the event loop (reads.ts). */
  getAsync(key: Uint8Array, at?: EngineSnapshot): Promise<Buffer | undefined> {
    try {
      this.#db.assertOpen()
    } catch (error) {
      return Promise.reject(error)
    }
    return getAsync(this.#db, key, at)
  }

  iterate(range: Range = {}, at?: EngineSnapshot): EngineCursor {
    this.#db.assertOpen()
    return iterate(this.#db, range, at)
  }

  snapshot(): EngineSnapshot {
    this.#db.assertOpen()
    return snapshot(this.#db)
  }

  diff(from: EngineSnapshot | undefined, to: EngineSnapshot | undefined, cost?: DiffCost): Iterable<Change> {
    this.#db.assertOpen()
    return diff(this.#db, from, to, cost)
  }

  // ── Named snapshots (named.ts) ──────────────────────────────────────────────

  /** Names the visible state; durable (a SNAPSHOT record, synced) when it resolves. Copies no data. */
  createSnapshot(name: string, meta: Buffer = Buffer.alloc(0)): Promise<NamedSnapshotInfo> {
    return this.#db.tasks.runChecked(() => {
      this.#db.assertOpen()
      checkSnapshotArguments(name, meta)
    }, () => createNamed(this.#db, name, meta))
  }

  listSnapshots(): NamedSnapshotInfo[] {
    this.#db.assertOpen()
    return [...this.#db.named.keys()].sort().map((name) => snapshotInfo(this.#db, name))
  }

  openSnapshot(name: string): EngineSnapshot {
    this.#db.assertOpen()
    return openNamed(this.#db, name)
  }

  /** Deletes a named snapshot (a DROP record, synced); the space only it held is reclaimed. */
  deleteSnapshot(name: string): Promise<void> {
    return this.#db.tasks.runChecked(() => this.#db.assertOpen(), () => deleteNamed(this.#db, name))
  }

  /**
   * Makes the head the named snapshot's state: one RESTORE record, synced, then the head's root
   * becomes the snapshot's. No data is copied; the space accounting walks only what differs.
   */
  restoreSnapshot(name: string): Promise<void> {
    return this.#db.tasks.runChecked(() => this.#db.assertOpen(), () => restoreNamed(this.#db, name))
  }

  /**
   * Makes a new database in the empty folder `target` at snapshot `name`'s state (the head's if
   * undefined), durable when it resolves: every segment up to a checkpoint of the source is shared
   * by hard link (copied with `link: false`, or across file systems), and the clone writes only
   * META, an empty segment and the records of its own restore, deletions and checkpoint (clone.ts).
   */
  clone(name: string | undefined, target: FileSystem, options: CloneOptions = {}): Promise<CloneResult> {
    const db = this.#db
    return db.tasks.runChecked(() => {
      db.assertOpen()
      if (db.readOnly) throw new StrataError(ErrorCode.READONLY, 'the database was opened read-only')
    }, () => cloneDatabase(db, target, { name, snapshots: options.snapshots === true, link: options.link !== false }))
  }

  // ── PageSource and TreeEvents (database.ts) ─────────────────────────────────
  // The engine still answers as a page source and hears tree events, as it always has publicly;
  // the head tree itself reads through, and reports to, the Database.

  loadNode(address: PageAddress): Node {
    return this.#db.loadNode(address)
  }

  cachedNode(address: PageAddress): Node {
    return this.#db.cachedNode(address)
  }

  readValue(ref: ValueRef): Buffer {
    return this.#db.readValue(ref)
  }

  rewritten(node: Node): void {
    this.#db.rewritten(node)
  }

  removed(node: Node): void {
    this.#db.removed(node)
  }

  valueRemoved(key: Buffer, ref: ValueRef): void {
    this.#db.valueRemoved(key, ref)
  }

  // ── Writes (commit.ts) ───────────────────────────────────────────────────────

  write(ops: Operation[], options: WriteOptions = {}): Promise<void> {
    const db = this.#db
    try {
      db.assertOpen()
      if (db.readOnly) throw new StrataError(ErrorCode.READONLY, 'the database was opened read-only')
      checkOperations(ops, db.tree)
    } catch (error) {
      return Promise.reject(error)
    }
    if (ops.length === 0) return Promise.resolve()
    const owned = copyOperations(ops)
    return submit(db, owned, options.sync !== false)
  }

  // ── Compaction (cleaning.ts) ─────────────────────────────────────────────────

  /** Rewrites everything the head uses into fresh segments and removes the old ones. */
  compact(): Promise<void> {
    const db = this.#db
    return db.tasks.runChecked(() => {
      db.assertOpen()
      if (db.readOnly) throw new StrataError(ErrorCode.READONLY, 'the database was opened read-only')
    }, async () => {
      if (db.log.broken) throw new StrataError(ErrorCode.IO_ERROR, 'an earlier write failed; reopen the database', { cause: db.log.broken })
      db.log.roll()
      await checkpoint(db, 'reclaim')
      // What the head uses moves out of the old segments; a second checkpoint lets them go at once.
      if (cleanSegments(db, victims(db, { all: true }))) await checkpoint(db, 'reclaim')
      removeEmptySegments(db)
    })
  }

  // ── Inspection and lifecycle ─────────────────────────────────────────────────

  stats(): EngineStats {
    const db = this.#db
    const fileBytes = db.log.bytes() + 1024
    // Only segments are ever shared: every database writes a META of its own (format.md §Clones).
    const sharedBytes = db.log.sharedBytes()
    const syncing = db.syncing
    const liveBytes = syncing && !syncing.out ? syncing.undo.dataBytesBefore : db.tree.dataBytes
    return {
      ...engineStats('row', db, { fileBytes, sharedBytes, liveBytes, pageSize: this.pageSize, pinnedSnapshots: db.space.pinCount }),
      segments: db.log.segments().length,
      usedBytes: db.space.liveBytes(),
    }
  }

  check(): string[] {
    this.#db.assertOpen()
    return checkDatabase(this.#db)
  }

  async close(): Promise<void> {
    const db = this.#db
    if (db.closed) return
    db.closed = true
    await db.tasks.settled()
    try {
      await db.checkpointDone
      if (db.logSinceCheckpoint > 0 && !db.log.broken && !db.readOnly) await checkpoint(db)
    } finally {
      await Promise.allSettled([...db.readsInFlight])
      db.log.close()
      db.meta.close()
      db.fs.unlock()
    }
  }
}
