import {
  BatchLayout,
  BatchUndo,
  type Change,
  checkOperations,
  checkSnapshotArguments,
  checkTree,
  copyOperations,
  compareKeys,
  type DiffCost,
  diffTrees,
  DEFAULT_PAGE_SIZE,
  decodeBatch,
  decodeNode,
  decodeValue,
  dirtyLeaves,
  encodeValue,
  engineCursor,
  pageProbe,
  type Engine,
  type EngineCursor,
  type EngineSnapshot,
  type EngineStats,
  type NamedSnapshotInfo,
  type NamedSnapshots,
  isRef,
  type LoggedOperation,
  lookup,
  NO_ADDRESS,
  type Node,
  type Operation,
  PAGE_HEADER_BYTES,
  type PageAddress,
  type PageSource,
  pageImageLength,
  type Range,
  spill,
  spillNode,
  Tree,
  TaskQueue,
  type TreeEvents,
  type ValueRef,
  valueRecordBytes,
  type WriteOptions,
} from '@strata/btree'
import { corruption, ErrorCode, type FileSystem, frameRecord, holdsBytes, type Purpose, RECORD_HEADER_BYTES, sealRecord, StrataError } from '@strata/storage'
import { type LogAddress, offsetOf, segmentOf } from './address.js'
import { decodeCheckpoint, encodeCheckpoint, type StoredSnapshot } from './checkpoint-record.js'
import { MetaFile } from './meta.js'
import { RecordType } from './record.js'
import { type ScannedRecord, SEGMENT_PATTERN, SegmentLog, segmentName } from './segment-log.js'
import {
  decodeDropRecord,
  decodeRestoreRecord,
  decodeSnapshotRecord,
  encodeDropRecord,
  encodeRestoreRecord,
  encodeSnapshotRecord,
} from './snapshot-records.js'
import { SpaceMap } from './space.js'
import { treeDifference } from './tree-difference.js'

/** When to checkpoint: see docs/architecture.md §Checkpoint policy for the measurements behind the defaults. */
export interface CheckpointPolicy {
  /** Never checkpoint before the log holds this many bytes since the last checkpoint. */
  minLogBytes: number
  /** Checkpoint once the log since the last one holds `ratio` × the bytes of the pages it dirtied. */
  ratio: number
  /** Always checkpoint once the log since the last one holds this many bytes (bounds recovery time). */
  maxLogBytes: number
  /**
   * Pages a policy checkpoint writes per turn of the write queue: it writes dirty leaves in turns
   * of this many, letting the writes queued meanwhile go between them, then the rest at once.
   */
  slicePages: number
}

/** Options of {@link RowEngine.open}. */
export interface RowEngineOptions {
  /** The folder the database lives in. */
  fs: FileSystem
  /** Page size of a new database (existing ones keep theirs). Default 4096. */
  pageSize?: number
  /** Size at which the log starts a new segment. Default 64 MiB. */
  segmentBytes?: number
  checkpoint?: Partial<CheckpointPolicy>
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

export const DEFAULT_CHECKPOINT_POLICY: CheckpointPolicy = {
  minLogBytes: 8 * 1024 * 1024,
  ratio: 1,
  maxLogBytes: 256 * 1024 * 1024,
  slicePages: 4096,
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
/** Sealed segments whose used bytes fall below this share of their size are cleaned. */
const CLEAN_BELOW = 0.5
/**
 * The space policy keeps the files within max(SPACE_FACTOR × live bytes, live bytes +
 * `minLogBytes`), beside what named snapshots alone keep (docs/architecture.md §Space policy).
 */
const SPACE_FACTOR = 1.5
/** Share of the bound the policy aims for, so that the log written meanwhile fits under it. */
const SPACE_AIM = 0.85
/**
 * Past the space aim, a checkpoint comes once the log holds this share of what the ratio asks, if
 * the pages dirtied are less than half the tree: where the log and the pages it dirties grow alike
 * (overwrites in key order), waiting for the ratio lets the log grow to the whole tree, and an
 * earlier checkpoint costs about the same page writes.
 */
const SPACE_EARLY = 0.9

/** Synced batches applied only once durable after a take-back (see RowEngine.#applyLate). */
const APPLY_LATE_AFTER_TAKE_BACK = 16

/** A named snapshot in memory; `node` is its root once read (recovery leaves it to first use). */
type NamedEntry = StoredSnapshot & { node: Node | undefined }

/** A synced batch in the head while its sync runs (see RowEngine.#applyWhileSyncing). */
interface SyncingBatch {
  readonly seq: number
  /** The batch in key order. */
  readonly ops: LoggedOperation[]
  readonly undo: BatchUndo
  /** Whether readers read the head the batch is in, and so must look past it. */
  shared: boolean
  /** Whether the batch was taken back out of the head, to go in again once durable. */
  out: boolean
}

class RowSnapshot implements EngineSnapshot {
  #released = false

  constructor(
    readonly seq: number,
    readonly root: Node,
    readonly owner: RowEngine,
    private readonly onRelease: (seq: number) => void,
  ) {}

  get released(): boolean {
    return this.#released
  }

  release(): void {
    if (this.#released) return
    this.#released = true
    this.onRelease(this.seq)
  }
}

/**
 * The redirect-on-write engine: a B+tree whose pages are never overwritten, in an append-only
 * segmented log (docs/architecture.md). A commit appends its batch as one record; dirty pages are
 * written elsewhere at checkpoints; a snapshot is a pinned root.
 */
export class RowEngine implements Engine, NamedSnapshots, PageSource, TreeEvents {
  readonly pageSize: number
  readonly #fs: FileSystem
  readonly #log: SegmentLog
  readonly #meta: MetaFile
  readonly #policy: CheckpointPolicy
  /** Where {@link RowEngine.loadNode} reads a page before copying out its image. */
  readonly #pageRead: Buffer
  readonly #space = new SpaceMap()
  readonly #tree: Tree
  /** The newest state that is durable (or written, for sync: false) and so visible to readers. */
  #visible: Node
  /**
   * Whether `#visible` is frozen. A reader that keeps a root past its call (a snapshot, a cursor,
   * a diff, a named snapshot) freezes it first ({@link RowEngine.#keptRoot}), so later writes copy
   * what it reaches. Batches alone leave the head unfrozen: what no reader kept, the next batch
   * changes in place instead of copying every node it touches.
   */
  #visibleFrozen = false
  /** A synced batch applied to the head before its sync ended, until it ends. */
  #syncing: SyncingBatch | undefined
  /**
   * Synced batches still to apply only once durable, after a reader had to take one back out: a
   * workload that keeps roots while it writes pays for a take-back at most once in this many.
   */
  #applyLate = 0
  #seq: number
  /** Address of the newest durable checkpoint record: recovery replays from there. */
  #checkpointAt: LogAddress
  #logSinceCheckpoint = 0
  #dirtiedSinceCheckpoint = 0
  #checkpoints = 0
  readonly #tasks = new TaskQueue()
  /** Named snapshots: durable, each a pinned root. */
  readonly #named = new Map<string, NamedEntry>()
  #closed = false
  #checkpointQueued = false
  /** Bytes of the pages cleaning relocated since the last checkpoint: the next one counts them as `reclaim`. */
  #relocatedBytes = 0
  /** Bytes of PAGE records a policy checkpoint under way has written ahead of its CHECKPOINT record. */
  #slicedBytes = 0
  /**
   * Segments that may hold VALUE records (every segment found at open, then those values are
   * appended to): cleaning reads these through, and finds the pages of the others in the tree.
   */
  readonly #valueSegments = new Set<number>()
  /**
   * The oldest `born` of what was written to each segment in this session (0 for values, whose
   * birth is not recorded, and for every segment found at open): a pin at or after it may share
   * a page there with the head, and cleaning would then copy the page, not free it.
   */
  readonly #oldestBorn = new Map<number, number>()
  /** Whether the next batch starts a new segment: the first after a checkpoint's pages (see #startSegment). */
  #logAfterCheckpoint = false
  /** Settles once the newest checkpoint is durable (or has failed, which stops writes). */
  #checkpointDone: Promise<void> = Promise.resolve()
  /** Set by `open` from {@link RowEngineOptions.readOnly}: nothing in the folder is written. */
  #readOnly = false

  private constructor(fs: FileSystem, log: SegmentLog, meta: MetaFile, policy: CheckpointPolicy, created: boolean) {
    this.#fs = fs
    this.#log = log
    this.#meta = meta
    this.#policy = policy
    this.pageSize = meta.current.pageSize
    this.#pageRead = Buffer.allocUnsafeSlow(this.pageSize)
    this.#checkpointAt = meta.current.checkpoint as LogAddress
    this.#seq = meta.current.checkpointSeq
    this.#tree = new Tree(this, this)
    this.#visible = this.#tree.root
    // A new database's first segment holds its empty root page and first checkpoint, no values.
    if (!created) for (const segment of log.segments()) this.#valueSegments.add(segment)
  }

  /** Opens (or creates) the database in `options.fs`, recovering to the newest valid commit. */
  static async open(options: RowEngineOptions): Promise<RowEngine> {
    const { fs } = options
    const policy = checkPolicy({ ...DEFAULT_CHECKPOINT_POLICY, ...options.checkpoint })
    fs.lock()
    try {
      const created = !MetaFile.exists(fs)
      const meta = await openOrCreate(options)
      const log = new SegmentLog(fs, meta.current.segmentBytes)
      const engine = new RowEngine(fs, log, meta, policy, created)
      engine.#readOnly = options.readOnly === true
      try {
        await engine.#recover()
      } catch (error) {
        log.close()
        meta.close()
        throw error
      }
      return engine
    } catch (error) {
      fs.unlock()
      throw error
    }
  }

  get seq(): number {
    return this.#seq
  }

  // ── Reads ────────────────────────────────────────────────────────────────────

  get(key: Uint8Array, at?: EngineSnapshot): Buffer | undefined {
    this.#assertOpen()
    const syncing = this.#syncing
    const value = !at && syncing?.shared && syncing.undo.has(key) ? syncing.undo.before(key) : lookup(this, this.#rootFor(at), key)
    if (value === undefined || !isRef(value)) return value
    return this.readValue(value)
  }

  iterate(range: Range = {}, at?: EngineSnapshot): EngineCursor {
    this.#assertOpen()
    const root = this.#keptRootFor(at)
    // A cursor pins the state it reads (an implicit snapshot), so that state's pages stay until
    // the cursor closes, even if an explicit snapshot it reads is released first.
    const seq = at ? at.seq : this.#seq
    this.#space.pin(seq)
    return engineCursor(this, root, range, { assertOpen: () => this.#assertOpen(), release: () => this.#unpin(seq) })
  }

  snapshot(): EngineSnapshot {
    this.#assertOpen()
    this.#space.pin(this.#seq)
    return new RowSnapshot(this.#seq, this.#keptRoot(), this, (seq) => this.#unpin(seq))
  }

  /** The visible state, frozen: for a reader that keeps it past the call. */
  #keptRoot(): Node {
    // The head may hold a batch whose sync is still running: the reader must not keep that.
    if (this.#syncing?.shared) this.#takeBackSyncing()
    // Freezing the tree's current generation freezes every node the visible root reaches.
    if (!this.#visibleFrozen) {
      this.#tree.freeze()
      this.#visibleFrozen = true
    }
    return this.#visible
  }

  /** Makes the head the visible state; `frozen` if it is to stay as it is (see #visibleFrozen). */
  #publish(frozen: boolean): void {
    this.#visible = frozen ? this.#tree.freeze() : this.#tree.root
    this.#visibleFrozen = frozen
  }

  /** The root a read at `at` starts from, for a read done within the call (a `get`). */
  #rootFor(at: EngineSnapshot | undefined): Node {
    if (!at) return this.#visible
    if (!(at instanceof RowSnapshot) || at.owner !== this) throw new TypeError('snapshot does not belong to this engine')
    if (at.released) throw new StrataError(ErrorCode.SNAPSHOT_NOT_OPEN, 'snapshot was released')
    return at.root
  }

  /** The root a read at `at` starts from, for a read that keeps it past the call (a cursor, a diff). */
  #keptRootFor(at: EngineSnapshot | undefined): Node {
    return at ? this.#rootFor(at) : this.#keptRoot()
  }

  #unpin(seq: number): void {
    if (this.#space.unpin(seq) && !this.#closed && !this.#readOnly) this.#removeEmptySegments()
  }

  // ── Named snapshots ─────────────────────────────────────────────────────────

  /** Names the visible state; durable (a SNAPSHOT record, synced) when it resolves. Copies no data. */
  createSnapshot(name: string, meta: Buffer = Buffer.alloc(0)): Promise<NamedSnapshotInfo> {
    return this.#tasks.runChecked(() => {
      this.#assertOpen()
      checkSnapshotArguments(name, meta)
    }, async () => {
      this.#assertWritable()
      if (this.#named.has(name)) throw new StrataError(ErrorCode.SNAPSHOT_EXISTS, `a snapshot named ${JSON.stringify(name)} already exists`)
      const createdAt = Date.now()
      this.#log.append(frameRecord(RecordType.SNAPSHOT, encodeSnapshotRecord({ seq: this.#seq, createdAt, name, meta })), 'meta')
      await this.#log.sync()
      this.#nameSnapshot(name, createdAt, meta)
      return this.#info(name)
    })
  }

  listSnapshots(): NamedSnapshotInfo[] {
    this.#assertOpen()
    return [...this.#named.keys()].sort().map((name) => this.#info(name))
  }

  openSnapshot(name: string): EngineSnapshot {
    this.#assertOpen()
    const entry = this.#namedEntry(name)
    this.#space.pin(entry.seq)
    return new RowSnapshot(entry.seq, this.#namedRoot(entry), this, (seq) => this.#unpin(seq))
  }

  /** Deletes a named snapshot (a DROP record, synced); the space only it held is reclaimed. */
  deleteSnapshot(name: string): Promise<void> {
    return this.#tasks.runChecked(() => this.#assertOpen(), async () => {
      this.#assertWritable()
      this.#namedEntry(name)
      this.#log.append(frameRecord(RecordType.DROP, encodeDropRecord(name)), 'meta')
      await this.#log.sync()
      this.#dropSnapshot(name)
      this.#removeEmptySegments()
    })
  }

  /**
   * Makes the head the named snapshot's state: one RESTORE record, synced, then the head's root
   * becomes the snapshot's. No data is copied; the space accounting walks only what differs.
   */
  restoreSnapshot(name: string): Promise<void> {
    return this.#tasks.runChecked(() => this.#assertOpen(), async () => {
      this.#assertWritable()
      this.#namedEntry(name)
      // The space a restore moves must not be in a checkpoint still on its way to the disk.
      await this.#checkpointDone
      const seq = this.#seq + 1
      this.#log.append(frameRecord(RecordType.RESTORE, encodeRestoreRecord(seq, name)), 'meta')
      await this.#log.sync()
      this.#restoreTo(name, seq)
    })
  }

  diff(from: EngineSnapshot | undefined, to: EngineSnapshot | undefined, cost?: DiffCost): Iterable<Change> {
    this.#assertOpen()
    for (const at of [from, to]) if (at) this.#rootFor(at)
    return this.#pinnedDiff(from, to, cost)
  }

  /**
   * A diff's walk. Like a cursor it pins the states it reads, from its first step until it ends
   * or is abandoned (`return()`, as a `for..of` that breaks calls), so their pages stay even
   * through compactions and if a snapshot it reads is released first.
   */
  *#pinnedDiff(from: EngineSnapshot | undefined, to: EngineSnapshot | undefined, cost?: DiffCost): Generator<Change> {
    const a = { source: this, root: this.#keptRootFor(from), seq: from ? from.seq : this.#seq }
    const b = { source: this, root: this.#keptRootFor(to), seq: to ? to.seq : this.#seq }
    this.#space.pin(a.seq)
    this.#space.pin(b.seq)
    try {
      yield* diffTrees(a, b, true, cost)
    } finally {
      this.#unpin(a.seq)
      this.#unpin(b.seq)
    }
  }

  /**
   * A named snapshot's root, read on first use: recovery does not read it, since a later DROP in
   * the log may have deleted the snapshot and its pages with it.
   */
  #namedRoot(entry: NamedEntry): Node {
    entry.node ??= this.loadNode(entry.root as PageAddress)
    return entry.node
  }

  #namedEntry(name: string): NamedEntry {
    const entry = this.#named.get(name)
    if (!entry) throw new StrataError(ErrorCode.SNAPSHOT_NOT_FOUND, `no snapshot named ${JSON.stringify(name)}`)
    return entry
  }

  #info(name: string): NamedSnapshotInfo {
    const { seq, createdAt, meta } = this.#namedEntry(name)
    return { name, seq, createdAt, meta, exclusiveBytes: this.#exclusiveBytes(seq) }
  }

  /** Registers a named snapshot of the visible state (on create, and on replay of its record). */
  #nameSnapshot(name: string, createdAt: number, meta: Buffer): void {
    this.#named.set(name, { name, seq: this.#seq, createdAt, meta, root: NO_ADDRESS, node: this.#keptRoot() })
    this.#space.pin(this.#seq)
  }

  #dropSnapshot(name: string): void {
    const entry = this.#named.get(name)
    if (!entry) return
    this.#named.delete(name)
    this.#space.unpin(entry.seq)
  }

  /**
   * The head becomes snapshot `name`'s state at sequence `seq`: what only the old head used is
   * freed, and what only the snapshot used returns to the head.
   */
  #restoreTo(name: string, seq: number): void {
    const entry = this.#namedEntry(name)
    const root = this.#namedRoot(entry)
    const difference = treeDifference(this, this.#tree.root, root)
    for (const page of difference.pagesOnlyInA) this.#space.free({ address: page.address, bytes: RECORD_HEADER_BYTES + page.bytes, born: page.born, seq })
    for (const value of difference.valuesOnlyInA) this.#space.free({ address: value.ref.address, bytes: valueRecordBytes(value.keyLength, value.ref.length), born: 0, seq })
    for (const page of difference.pagesOnlyInB) this.#space.reuse(page.address)
    for (const value of difference.valuesOnlyInB) this.#space.reuse(value.ref.address)
    this.#tree.replaceRoot(root)
    this.#tree.dataBytes += difference.walkedDataBytesB - difference.walkedDataBytesA
    this.#seq = seq
    this.#publish(true)
  }

  // ── PageSource: how the tree reads pages and values ─────────────────────────

  loadNode(address: PageAddress): Node {
    // One read of as many bytes as a page can hold (fewer at a segment's end); the header then
    // says how many of them are the page's. A longer claim is read on, and decoding judges it.
    // The read lands in a buffer kept for it: a new 4 KiB buffer for every page costs more than the
    // read itself, and the page's own copy comes from Node's pool of small buffers.
    const where = segmentName(segmentOf(address))
    const read = this.#pageRead
    const got = this.#log.readInto(address, read, 'page')
    if (got < PAGE_HEADER_BYTES) throw corruption(where, offsetOf(address), 'truncated page')
    const length = pageImageLength(read)
    const image =
      length <= got
        ? Buffer.from(read.subarray(0, length))
        : Buffer.concat([read.subarray(0, got), this.#log.read(address + got, length - got, 'page')])
    return decodeNode(image, address, 0, where, offsetOf(address))
  }

  readValue(ref: ValueRef): Buffer {
    const record = this.#log.readRecord(ref.address, 'value')
    const where = segmentName(segmentOf(ref.address))
    if (record.type !== RecordType.VALUE) throw corruption(where, offsetOf(ref.address), 'value reference names a record that is not a value')
    const { value } = decodeValue(record.payload, where, offsetOf(ref.address))
    if (value.length !== ref.length) throw corruption(where, offsetOf(ref.address), 'value length differs from its reference')
    return value
  }

  // ── TreeEvents: space accounting as the head changes ────────────────────────

  rewritten(node: Node): void {
    this.#space.free({ address: node.address, bytes: RECORD_HEADER_BYTES + node.bytes, born: node.born, seq: this.#seq + 1 })
    this.#dirtiedSinceCheckpoint += node.bytes
  }

  removed(node: Node): void {
    if (node.address !== NO_ADDRESS) this.#space.free({ address: node.address, bytes: RECORD_HEADER_BYTES + node.bytes, born: node.born, seq: this.#seq + 1 })
  }

  valueRemoved(key: Buffer, ref: ValueRef): void {
    // A value's birth is not recorded, so any older pin may need it.
    this.#space.free({ address: ref.address, bytes: valueRecordBytes(key.length, ref.length), born: 0, seq: this.#seq + 1 })
  }

  // ── Writes ───────────────────────────────────────────────────────────────────

  write(ops: Operation[], options: WriteOptions = {}): Promise<void> {
    try {
      this.#assertOpen()
      if (this.#readOnly) throw new StrataError(ErrorCode.READONLY, 'the database was opened read-only')
      checkOperations(ops, this.#tree)
    } catch (error) {
      return Promise.reject(error)
    }
    if (ops.length === 0) return Promise.resolve()
    const owned = copyOperations(ops)
    return this.#tasks.run(() => this.#commit(owned, options.sync !== false))
  }

  /**
   * Commits one batch (its keys and values already copied: the caller may reuse its buffers as
   * soon as `write` returns):
   * 1. Lay out the records: each large value in a VALUE record, then the BATCH record.
   * 2. Append them with one write (a failed write is cut back off the log).
   * 3. With sync, wait until they are durable: a batch is never visible before it is durable.
   * 4. Apply the batch to the head tree and publish the new root to readers.
   * 5. Queue a checkpoint if the policy asks for one.
   */
  async #commit(ops: Operation[], sync: boolean): Promise<void> {
    if (this.#log.broken) throw new StrataError(ErrorCode.IO_ERROR, 'an earlier write failed; reopen the database', { cause: this.#log.broken })
    const seq = this.#seq + 1
    // 1. Large values go out of line, each a VALUE record before the batch that names its address.
    const layout = new BatchLayout(ops, this.pageSize)
    const { bytes: total, userBytes, valueBytes } = layout
    // The log after a checkpoint starts a segment of its own.
    if (this.#logAfterCheckpoint) {
      this.#startSegment()
      this.#logAfterCheckpoint = false
    }
    const start = this.#log.prepare(total)
    const { buf, logged } = layout.encode(seq, this.#log.durableEnd, (offset) => start + offset)
    // 2. One write.
    const written = this.#log.append(buf, 'log', start)
    if (written !== start) throw new Error('strata: invariant broken: the log moved between prepare and append')
    if (valueBytes > 0) {
      this.#fs.io.reassign('log', 'value', valueBytes)
      this.#valueSegments.add(segmentOf(start))
      this.#noteBorn(start, 0)
    }
    this.#fs.io.countUser(userBytes)
    // 3–4. Durable before visible, then applied and published. A synced batch of inline values
    // goes into the head while its sync runs, hidden from readers until the sync ends.
    if (sync && valueBytes === 0 && this.#applyLate === 0) {
      await this.#applyWhileSyncing(seq, logged)
    } else {
      if (sync && valueBytes === 0) this.#applyLate--
      if (sync) await this.#log.sync()
      this.#applyOrFail(() => this.#apply(seq, logged))
    }
    this.#logSinceCheckpoint += total
    // 5. Checkpoint when the log since the last one is large against the pages it dirtied.
    if (!this.#checkpointQueued && this.#wantsCheckpoint()) {
      this.#checkpointQueued = true
      this.#queueCheckpointTurn()
    }
  }

  /**
   * Queues one turn of a policy checkpoint behind the writes already queued. A turn writes up to
   * `slicePages` dirty leaves and queues the next turn; the last turn writes the rest (the leaves
   * dirtied since, and every dirty branch) and the CHECKPOINT record. Writes thus wait for one
   * turn at a time, not for a whole tree's pages. A checkpoint takes at most as many turns as its
   * first found dirty leaves to fill, so writes that go on dirtying leaves cannot keep it from
   * ending. Leaves a later write changes again are written again; the copy written earlier is
   * freed like any page the head stops using.
   */
  #queueCheckpointTurn(turn?: { left: number; after: number }): void {
    // A failure marks the log failed: every later write rejects with STRATA_IO_ERROR naming it as
    // its cause, and reads go on.
    this.#tasks.runInBackground(() => {
      // Not wanted any more (after the first turn: another checkpoint, such as a compaction's, ended meanwhile).
      if (this.#closed || this.#log.broken || (turn ? turn.after !== this.#checkpoints : !this.#wantsCheckpoint())) {
        this.#checkpointQueued = false
        return Promise.resolve()
      }
      // A checkpoint's pages start a segment of their own.
      if (!turn) this.#startSegment()
      const limit = this.#policy.slicePages
      const left = turn ? turn.left : Math.ceil(dirtyLeaves(this.#tree.root, Number.POSITIVE_INFINITY).length / limit) - 1
      if (left > 0 && this.#writeDirtyLeaves(limit) === limit) {
        this.#queueCheckpointTurn({ left: left - 1, after: this.#checkpoints })
        return Promise.resolve()
      }
      this.#checkpointQueued = false
      return this.#checkpoint('page', true)
    })
  }

  /**
   * Starts a new segment unless the active one is empty. A checkpoint's pages and the log after
   * it go to segments of their own: the log is dead as soon as the next checkpoint is durable, so
   * its segment goes whole, and a segment of pages empties as the head stops using them, without
   * dead log among them to be cleaned around (docs/architecture.md §Space policy).
   */
  #startSegment(): void {
    if (this.#log.segmentSize(this.#log.activeSegment) > 0) this.#log.roll()
  }

  /** Writes up to `limit` dirty leaves of the head as PAGE records in one write; returns how many. */
  #writeDirtyLeaves(limit: number): number {
    const leaves = dirtyLeaves(this.#tree.root, limit)
    if (leaves.length === 0) return 0
    let bytes = 0
    for (const leaf of leaves) bytes += RECORD_HEADER_BYTES + leaf.bytes
    const start = this.#log.prepare(bytes)
    const parts: Buffer[] = []
    let at = 0
    for (const leaf of leaves) {
      spillNode(
        leaf,
        (_node, framed) => {
          parts.push(sealRecord(framed, RecordType.PAGE))
          const address = (start + at + RECORD_HEADER_BYTES) as PageAddress
          at += framed.length
          return address
        },
        RECORD_HEADER_BYTES,
      )
    }
    try {
      const written = this.#log.append(parts, 'page', start)
      if (written !== start) throw new Error('strata: invariant broken: the log moved while leaves were written')
    } catch (error) {
      for (const leaf of leaves) leaf.address = NO_ADDRESS
      this.#log.fail(error as Error)
      throw error
    }
    for (const leaf of leaves) {
      this.#space.use(leaf.address, RECORD_HEADER_BYTES + leaf.bytes)
      this.#noteBorn(leaf.address, leaf.born)
    }
    this.#slicedBytes += at
    return leaves.length
  }

  /**
   * Runs `apply`. A failure (a corrupt page read on the way) leaves the head unlike the log, so
   * the engine takes no more writes until it is reopened and recovers.
   */
  #applyOrFail(apply: () => void): void {
    try {
      apply()
    } catch (error) {
      this.#log.fail(error as Error)
      throw error
    }
  }

  /** Applies a logged batch to the head tree and makes it the visible state. */
  #apply(seq: number, ops: LoggedOperation[]): void {
    // The copies `write` took go in, not the caller's buffers; the tree copies each entry again.
    this.#applyOps(seq, ops.length > 16 ? inKeyOrder(ops) : ops)
    this.#seq = seq
    this.#publish(false)
  }

  /** Applies operations to the head, nodes made born at `birth`; `undo` notes what each key held. */
  #applyOps(birth: number, ops: LoggedOperation[], undo?: BatchUndo): void {
    this.#tree.birth = birth
    for (const op of ops) {
      if (op.type === 'del') {
        this.#tree.del(op.key)
      } else {
        if (isRef(op.value)) this.#space.use(op.value.address, valueRecordBytes(op.key.length, op.value.length))
        this.#tree.put(op.key, op.value)
      }
      undo?.note(op.key)
    }
  }

  /**
   * Steps 3 and 4 of a synced batch (of inline values only), with the sync and the apply at once:
   * the sync waits on the device while the apply works in memory. Readers still see the batch
   * only once it is durable:
   * - if the visible state is frozen, readers read it, not the head the batch goes into;
   * - else `get` looks past the batch (what its keys held before), and a reader that keeps a
   *   root meanwhile (a snapshot, a cursor) first takes the batch back out of the head
   *   (#takeBackSyncing); it goes in again once durable.
   * If the sync fails, the batch is taken back out before the error reaches the caller.
   */
  async #applyWhileSyncing(seq: number, logged: LoggedOperation[]): Promise<void> {
    const durable = this.#log.sync()
    const shared = !this.#visibleFrozen
    const syncing: SyncingBatch = { seq, ops: inKeyOrder(logged), undo: new BatchUndo(this.#tree), shared, out: false }
    this.#syncing = syncing
    try {
      // A shared head's nodes are born at the visible state's sequence number: if a reader keeps
      // the head once the batch is out again, that state reaches them.
      this.#applyOps(shared ? this.#seq : seq, syncing.ops, syncing.undo)
      // Readers of a shared head read from its root, which a split or a collapse may have replaced.
      if (shared) this.#visible = this.#tree.root
    } catch (error) {
      durable.catch(() => undefined)
      this.#failSyncing(syncing, error as Error)
      throw error
    }
    try {
      await durable
    } catch (error) {
      this.#failSyncing(syncing, error as Error)
      throw error
    }
    this.#syncing = undefined
    if (syncing.out) {
      this.#applyOrFail(() => this.#apply(seq, syncing.ops))
      return
    }
    this.#seq = seq
    this.#publish(false)
  }

  /** Takes the syncing batch back out of the head, so that the head is the visible state again. */
  #takeBackSyncing(): void {
    const syncing = this.#syncing
    if (!syncing || syncing.out) return
    this.#tree.birth = this.#seq
    syncing.undo.restore((ref) => this.#space.reuse(ref.address))
    // A frozen visible root stays as it is; readers of a shared head read from its root again.
    if (syncing.shared) this.#visible = this.#tree.root
    syncing.out = true
    syncing.shared = false
    this.#applyLate = APPLY_LATE_AFTER_TAKE_BACK
  }

  /** The syncing batch's apply or sync failed: out of the head with it, and no more writes. */
  #failSyncing(syncing: SyncingBatch, error: Error): void {
    this.#log.fail(error)
    try {
      this.#takeBackSyncing()
    } finally {
      this.#syncing = undefined
    }
  }

  #wantsCheckpoint(): boolean {
    const p = this.#policy
    const since = this.#logSinceCheckpoint
    if (since >= p.maxLogBytes) return true
    if (since < this.#minLogBytes()) return false
    const dirtied = this.#dirtiedSinceCheckpoint
    const owed = p.ratio * dirtied
    if (since >= owed) return true
    // Early only while the pages dirtied grow with the log: a checkpoint that rewrites most of the
    // tree costs the same later, and coming early would only add checkpoints.
    return since >= SPACE_EARLY * owed && dirtied < this.#space.liveBytes() / 2 && this.#overSpace()
  }

  /** Whether the files, less what snapshots alone keep, are past the share of the bound the policy aims for. */
  #overSpace(): boolean {
    return this.#log.bytes() - this.#keptForSnapshots() > SPACE_AIM * this.#spaceBound()
  }

  /**
   * The log a checkpoint waits for: `minLogBytes`, or a quarter of the live data when that is
   * less (down to an eighth of `minLogBytes`), so a small database's log stays small beside it.
   */
  #minLogBytes(): number {
    const p = this.#policy
    return Math.min(p.minLogBytes, Math.max(p.minLogBytes / 8, this.#tree.dataBytes / 4))
  }

  /** The files the space policy allows, beside what named snapshots alone keep. */
  #spaceBound(): number {
    const live = this.#tree.dataBytes
    return Math.max(SPACE_FACTOR * live, live + this.#policy.minLogBytes)
  }

  /** Bytes of the files that only pins keep: the sum of {@link RowEngine.#keptBy} over the segments. */
  #keptForSnapshots(): number {
    let total = 0
    for (const segment of this.#log.segments()) total += this.#keptBy(segment)
    return total
  }

  /** Bytes that deleting the snapshot pinned at `seq` frees, given no other pin at `seq`. */
  #exclusiveBytes(seq: number): number {
    const alone = this.#space.exclusiveBySegment(seq)
    let total = 0
    for (const segment of this.#log.segments()) total += this.#keptBy(segment, { seq, alone: alone.get(segment) ?? 0 })
    return total
  }

  /**
   * Bytes of `segment` that pins keep (with `pin`, that pin alone, `alone` being its bytes held
   * there that no other pin needs):
   * - a sealed segment the head does not use: whole, if those pins hold all its held bytes;
   * - a sealed segment whose pages the pins may share with the head, so that cleaning would copy
   *   them instead of freeing the segment: all but the head's bytes, likewise;
   * - else the bytes held for them.
   */
  #keptBy(segment: number, pin?: { seq: number; alone: number }): number {
    const held = this.#space.held.get(segment) ?? 0
    const kept = pin ? pin.alone : held
    if (!this.#isSealed(segment) || kept !== held) return kept
    const live = this.#space.live.get(segment) ?? 0
    if (live === 0) return held > 0 ? this.#log.segmentSize(segment) : 0
    const sharing = this.#pinsSharing(segment)
    const only = sharing.length > 0 && (!pin || sharing.every((s) => s === pin.seq))
    return only ? this.#log.segmentSize(segment) - live : kept
  }

  /** Whether `segment` lies before the newest checkpoint's: cleaning may take it, and it goes once nothing needs it. */
  #isSealed(segment: number): boolean {
    return segment < segmentOf(this.#checkpointAt)
  }

  // ── Checkpoints ─────────────────────────────────────────────────────────────

  /**
   * Makes the head tree durable as pages, so the log before it is no longer needed:
   * 1. Spill every dirty page, children first, each to a new place after the log's end.
   * 2. Append the pages and a CHECKPOINT record (root, sequence, space table) in one write; sync.
   * 3. Point META at the checkpoint; sync. Recovery now starts here.
   * 4. Release the space of pages and values the new tree no longer uses, and remove segments
   *    nothing uses; clean the emptiest sealed segments.
   */
  async #checkpoint(purpose: Purpose = 'page', background = false): Promise<void> {
    // One checkpoint at a time: each is laid out only once the one before it is durable.
    const previous = this.#checkpointDone
    let finish!: () => void
    this.#checkpointDone = new Promise<void>((resolve) => {
      finish = resolve
    })
    await previous
    let done: Promise<void>
    try {
      done = this.#layOutCheckpoint(purpose)
    } catch (error) {
      finish()
      throw error
    }
    done.then(finish, finish)
    if (!background) await done
  }

  /** Steps 1 and 2 of a checkpoint; returns steps 3 and 4 under way. */
  #layOutCheckpoint(purpose: Purpose): Promise<void> {
    if (this.#log.broken) return Promise.resolve()
    const root = this.#tree.root
    // 1. Spill: each page is encoded behind room for its record header, and written with the
    // others in one gathered write. The head first; then what only named snapshots reach, whose
    // pages the head does not use: they are held for those snapshots from the start.
    const named = [...this.#named.values()]
    const dirtyBytes = measureDirty(root) + named.reduce((sum, n) => sum + (n.node ? measureDirty(n.node) : 0), 0)
    const start = this.#log.prepare(dirtyBytes + 65536)
    const parts: Buffer[] = []
    const spilled: Node[] = []
    let at = 0
    const writer = (node: Node, framed: Buffer) => {
      parts.push(sealRecord(framed, RecordType.PAGE))
      spilled.push(node)
      const address = (start + at + RECORD_HEADER_BYTES) as PageAddress
      at += framed.length
      return address
    }
    spill(root, writer, RECORD_HEADER_BYTES)
    const headPages = spilled.length
    for (const n of named) if (n.node) spill(n.node, writer, RECORD_HEADER_BYTES)
    // The spilled pages are clean now, so the space map counts them at once.
    for (const node of spilled) {
      this.#space.use(node.address, RECORD_HEADER_BYTES + node.bytes)
      this.#noteBorn(node.address, node.born)
    }
    for (const node of spilled.slice(headPages)) {
      this.#space.free({ address: node.address, bytes: RECORD_HEADER_BYTES + node.bytes, born: node.born, seq: this.#seq + 1 })
    }
    const live = new Map(this.#space.live)
    for (const [segment, bytes] of this.#space.pendingBySegment()) live.set(segment, (live.get(segment) ?? 0) - bytes)
    for (const [segment, bytes] of live) if (bytes === 0) live.delete(segment)
    const snapshots: StoredSnapshot[] = named.map(({ node, ...stored }) => ({ ...stored, root: node ? node.address : stored.root }))
    const held = this.#space.heldFor(named.map((n) => n.seq))
    const record = frameRecord(
      RecordType.CHECKPOINT,
      encodeCheckpoint({ seq: this.#seq, root: root.address, dataBytes: this.#tree.dataBytes, live, snapshots, held }),
    )
    parts.push(record)
    const checkpointAt = (start + at) as LogAddress
    // 2. One write of pages and checkpoint. From here the next batches may follow it in the log:
    // replay from this checkpoint, or from the one before it, applies them either way.
    try {
      const written = this.#log.append(parts, purpose, start)
      if (written !== start) throw new Error('strata: invariant broken: the log moved during a checkpoint')
    } catch (error) {
      for (const node of spilled) {
        this.#space.use(node.address, -(RECORD_HEADER_BYTES + node.bytes))
        node.address = NO_ADDRESS
      }
      this.#log.fail(error as Error)
      throw error
    }
    this.#fs.io.reassign(purpose, 'meta', record.length)
    if (purpose !== 'reclaim') this.#fs.io.reassign(purpose, 'reclaim', Math.min(this.#relocatedBytes, at + this.#slicedBytes))
    this.#relocatedBytes = 0
    this.#slicedBytes = 0
    this.#space.beginCommit()
    this.#logAfterCheckpoint = true
    this.#logSinceCheckpoint = 0
    this.#dirtiedSinceCheckpoint = 0
    // 3–4. Durable, then named in META, then its frees released. A policy checkpoint does this off
    // the write queue, so writes go on while its pages reach the disk.
    return this.#completeCheckpoint(checkpointAt, this.#seq, purpose)
  }

  /** Steps 3 and 4 of a checkpoint laid out at `checkpointAt`: sync, point META at it, release space. */
  async #completeCheckpoint(checkpointAt: LogAddress, seq: number, purpose: Purpose): Promise<void> {
    try {
      await this.#log.sync()
      // 3. Recovery starts here from now on.
      await this.#meta.update(checkpointAt, seq)
    } catch (error) {
      // The log takes no more writes after this; space figures are rebuilt by the next open.
      this.#log.fail(error as Error)
      throw error
    }
    // 4. Space.
    this.#space.commitFrees()
    this.#checkpointAt = checkpointAt
    this.#checkpoints++
    this.#removeEmptySegments()
    if (purpose === 'page' && !this.#closed) {
      // The segments the policy picks, within a budget, their pages written by the next policy
      // checkpoint: cleaning is spread over the writes instead of stopping them while the whole
      // tree moves at once.
      this.#tasks.runInBackground(() => this.#cleanSegments(this.#victims(false), false))
    }
  }

  /** Notes that a page or value born at `born` was written at `address`. */
  #noteBorn(address: number, born: number): void {
    const segment = segmentOf(address)
    const oldest = this.#oldestBorn.get(segment)
    if (oldest === undefined || born < oldest) this.#oldestBorn.set(segment, born)
  }

  /**
   * The pins that keep cleaning from freeing `segment`: those that may share a page the head uses
   * there (moving it would copy it, the old copy held for them). Empty if cleaning can free it.
   */
  #pinsSharing(segment: number): number[] {
    return this.#space.pinnedFrom(this.#oldestBorn.get(segment) ?? 0)
  }

  /** Removes sealed segments (before the newest checkpoint) that nothing uses or holds. */
  #removeEmptySegments(): void {
    const replayFrom = segmentOf(this.#checkpointAt)
    for (const segment of this.#log.segments()) {
      if (segment < replayFrom && this.#space.isEmpty(segment)) {
        this.#log.remove(segment)
        this.#space.forget(segment)
        this.#valueSegments.delete(segment)
        this.#oldestBorn.delete(segment)
      }
    }
  }

  /**
   * Sealed segments to clean, of those the head still uses (one it does not use has nothing to
   * move: only pins keep it) and no pin shares (moving its pages would copy them): all of them for
   * a full compaction. Else the emptiest first, each below CLEAN_BELOW used or while the files
   * stay past the space policy's aim, until the bytes to move reach the larger of a checkpoint
   * turn's pages, `minLogBytes` and a quarter of the live data.
   */
  #victims(all: boolean): number[] {
    const replayFrom = segmentOf(this.#checkpointAt)
    const candidates: { segment: number; size: number; used: number }[] = []
    for (const segment of this.#log.segments()) {
      if (segment >= replayFrom) continue
      const used = this.#space.live.get(segment) ?? 0
      // What pins share with the head stays where it is: moving it would copy it, not free it.
      if (used > 0 && this.#pinsSharing(segment).length === 0) candidates.push({ segment, size: this.#log.segmentSize(segment), used })
    }
    candidates.sort((a, b) => a.used / Math.max(1, a.size) - b.used / Math.max(1, b.size))
    if (all) return candidates.map((c) => c.segment)
    let files = this.#log.bytes() - this.#keptForSnapshots()
    const aim = SPACE_AIM * this.#spaceBound()
    let budget = Math.max(this.#policy.slicePages * this.pageSize, this.#policy.minLogBytes, this.#tree.dataBytes / 4)
    const victims: number[] = []
    for (const c of candidates) {
      if (budget <= 0 || (c.used >= CLEAN_BELOW * c.size && files <= aim)) break
      victims.push(c.segment)
      files -= c.size - c.used
      budget -= c.used
    }
    return victims
  }

  /**
   * Moves what the head still uses out of `segments` (pages become dirty and are rewritten by
   * the next checkpoint; values are copied to new VALUE records); with `checkpointNow`, then
   * checkpoints so the segments can go at once, else they go after the next policy checkpoint.
   * Until that checkpoint is durable, recovery still finds everything where it was. Pages only a
   * pinned snapshot uses stay until it is released.
   */
  async #cleanSegments(segments: number[], checkpointNow: boolean): Promise<void> {
    if (segments.length === 0) return
    let moved = false
    // Segments without values: the tree knows which of their pages the head uses.
    const pagesOnly = new Set(segments.filter((segment) => !this.#valueSegments.has(segment)))
    if (pagesOnly.size > 0) {
      for (const page of this.#tree.relocatePages((address) => pagesOnly.has(segmentOf(address)))) {
        moved = true
        this.#relocatedBytes += RECORD_HEADER_BYTES + page.bytes
      }
    }
    // The others are read through, for their VALUE records (and the pages among them).
    for (const segment of segments) {
      if (pagesOnly.has(segment)) continue
      for (const record of this.#log.scanSegment(segment, 'reclaim')) {
        const where = segmentName(segment)
        if (record.type === RecordType.PAGE) {
          const address = (record.address + RECORD_HEADER_BYTES) as PageAddress
          const probe = pageProbe(record.payload, where, offsetOf(record.address))
          if (this.#tree.relocate(probe, address)) {
            moved = true
            this.#relocatedBytes += RECORD_HEADER_BYTES + record.payload.length
          }
        } else if (record.type === RecordType.VALUE) {
          const { key, value } = decodeValue(record.payload, where, offsetOf(record.address))
          const current = this.#tree.get(key)
          if (current === undefined || !isRef(current) || current.address !== record.address) continue
          const copy = Buffer.allocUnsafe(valueRecordBytes(key.length, value.length))
          encodeValue(key, value, copy, 0)
          const address = this.#log.append(copy, 'reclaim')
          this.#valueSegments.add(segmentOf(address))
          this.#noteBorn(address, 0)
          this.#space.use(address, copy.length)
          this.#tree.put(Buffer.from(key), { address, length: value.length })
          moved = true
        }
      }
    }
    if (!moved) return
    this.#publish(false)
    if (checkpointNow) await this.#checkpoint('reclaim')
  }

  /** Rewrites everything the head uses into fresh segments and removes the old ones. */
  compact(): Promise<void> {
    return this.#tasks.runChecked(() => {
      this.#assertOpen()
      if (this.#readOnly) throw new StrataError(ErrorCode.READONLY, 'the database was opened read-only')
    }, async () => {
      if (this.#log.broken) throw new StrataError(ErrorCode.IO_ERROR, 'an earlier write failed; reopen the database', { cause: this.#log.broken })
      this.#log.roll()
      await this.#checkpoint('reclaim')
      await this.#cleanSegments(this.#victims(true), true)
      this.#removeEmptySegments()
    })
  }

  // ── Recovery ────────────────────────────────────────────────────────────────

  /**
   * Rebuilds the head from the newest durable checkpoint:
   * 1. Read the checkpoint record META names: the root, the sequence, the space table.
   * 2. Replay every whole BATCH record after it with the next sequence number, in order.
   * 3. Stop at the first record that is torn, fails its checksum or breaks the sequence; cut
   *    the log there, so new records follow the last valid one.
   */
  async #recover(): Promise<void> {
    // A damaged META slot may have named a newer checkpoint than the one the other slot names,
    // whose segments may be gone since: start from the newest whole checkpoint in the log.
    if (this.#meta.damagedSlot !== undefined) {
      const newest = this.#newestCheckpoint()
      if (newest !== undefined && newest.seq >= this.#meta.current.checkpointSeq) this.#checkpointAt = newest.address
    }
    const at = this.#checkpointAt
    const where = segmentName(segmentOf(at))
    const record = this.#log.readRecord(at, 'meta')
    if (record.type !== RecordType.CHECKPOINT) throw corruption(where, offsetOf(at), 'META names a record that is not a checkpoint')
    const checkpoint = decodeCheckpoint(record.payload, where, offsetOf(at))
    for (const [segment, bytes] of checkpoint.live) this.#space.live.set(segment, bytes)
    this.#seq = checkpoint.seq
    this.#tree.adoptRoot(this.loadNode(checkpoint.root as PageAddress))
    this.#tree.dataBytes = checkpoint.dataBytes
    this.#publish(true)
    // Named snapshots pin their states again, and the space they alone hold stays held.
    for (const stored of checkpoint.snapshots) {
      this.#named.set(stored.name, { ...stored, node: undefined })
      this.#space.pin(stored.seq)
    }
    this.#space.restoreHeld(checkpoint.held)
    let end = (at + RECORD_HEADER_BYTES + record.payload.length) as LogAddress
    for (const r of this.#log.scan(end, 'log')) {
      const file = segmentName(segmentOf(r.address))
      const offset = offsetOf(r.address)
      if (r.type === RecordType.BATCH) {
        const batch = decodeBatch(r.payload, file, offset)
        if (batch.seq !== this.#seq + 1) break
        this.#apply(batch.seq, batch.ops)
        this.#logSinceCheckpoint += r.next - r.address
      } else if (r.type === RecordType.SNAPSHOT) {
        const snapshot = decodeSnapshotRecord(r.payload, file, offset)
        if (snapshot.seq !== this.#seq) break
        this.#nameSnapshot(snapshot.name, snapshot.createdAt, snapshot.meta)
      } else if (r.type === RecordType.DROP) {
        this.#dropSnapshot(decodeDropRecord(r.payload, file, offset))
      } else if (r.type === RecordType.RESTORE) {
        const restore = decodeRestoreRecord(r.payload, file, offset)
        if (restore.seq !== this.#seq + 1) break
        this.#restoreTo(restore.name, restore.seq)
      }
      end = r.next
    }
    this.#refuseDamage(end)
    this.#publish(true)
    // Read-only: the head lives in memory only; the log's tail and leftover segments stay as they are.
    if (this.#readOnly) return
    this.#log.resume(end)
    // What recovery read must be durable before anything builds on it: the replayed log (the OS
    // may still hold it unsynced from before a process crash) and META, which is rewritten when
    // recovery had to look past a damaged slot.
    this.#log.markUnsynced(segmentOf(this.#checkpointAt))
    await this.#log.sync()
    if (this.#meta.damagedSlot !== undefined || this.#meta.current.checkpoint !== this.#checkpointAt) {
      await this.#meta.update(this.#checkpointAt, checkpoint.seq)
    } else {
      await this.#meta.sync()
    }
    // The directory entries found (META's, the segments') may never have been synced either.
    await this.#fs.syncDirectory()
    // Segments a crash kept from being removed hold nothing the checkpoint uses.
    this.#removeEmptySegments()
  }

  /**
   * Throws LEVEL_CORRUPTION if the log holds a whole BATCH record after `end` (where the replay
   * stopped) that proves `end` was durable: power lost mid-write leaves whole records after a lost
   * or torn one only where no completed sync covered them, and those are a crash's leftovers, cut
   * off by `resume`; but a batch whose durable-through mark passes `end` was written after a sync
   * covered it, so the bad record there is damage, and cutting would drop acknowledged commits.
   * (A batch without the mark, from an older version, proves it by a sequence number past the next.)
   */
  #refuseDamage(end: LogAddress): void {
    const judge = (later: ScannedRecord) => {
      if (later.type !== RecordType.BATCH) return
      const file = segmentName(segmentOf(later.address))
      const batch = decodeBatch(later.payload, file, offsetOf(later.address))
      const proves = batch.durableThrough === undefined ? batch.seq > this.#seq + 1 : batch.durableThrough > end
      if (proves) {
        throw corruption(
          `${this.#fs.location}/${segmentName(segmentOf(end))}`,
          offsetOf(end),
          `bad log record followed by commit ${batch.seq} at ${file} offset ${offsetOf(later.address)}, which was written once the log was durable past it`,
        )
      }
    }
    // Each scan's payloads are valid only until it yields the next: judge them as they come.
    for (const later of this.#log.recordsAfter(end, 'log')) judge(later)
    for (const later of this.#log.recordsAbove(segmentOf(end), 'log')) judge(later)
  }

  /** The whole CHECKPOINT record with the highest sequence number, searching the newest segments first. */
  #newestCheckpoint(): { address: LogAddress; seq: number } | undefined {
    for (const segment of this.#log.segments().reverse()) {
      let found: { address: LogAddress; seq: number } | undefined
      for (const r of this.#log.scanSegment(segment, 'meta')) {
        if (r.type !== RecordType.CHECKPOINT) continue
        const seq = decodeCheckpoint(r.payload, segmentName(segment), offsetOf(r.address)).seq
        if (!found || seq >= found.seq) found = { address: r.address, seq }
      }
      if (found) return found
    }
    return undefined
  }

  // ── Inspection and lifecycle ─────────────────────────────────────────────────

  stats(): EngineStats {
    const fileBytes = this.#log.bytes() + 1024
    const syncing = this.#syncing
    const liveBytes = syncing && !syncing.out ? syncing.undo.dataBytesBefore : this.#tree.dataBytes
    return {
      engine: 'row',
      seq: this.#seq,
      io: this.#fs.io.report(),
      fileBytes,
      liveBytes,
      spaceAmplification: liveBytes === 0 ? 0 : fileBytes / liveBytes,
      pageSize: this.pageSize,
      pinnedSnapshots: this.#space.pinCount,
      checkpoints: this.#checkpoints,
      segments: this.#log.segments().length,
      usedBytes: this.#space.liveBytes(),
    }
  }

  check(): string[] {
    this.#assertOpen()
    const { problems, shape } = checkTree(this, this.#tree.root)
    if (this.#tree.dataBytes !== shape.liveBytes) {
      problems.push(`live data bytes recorded as ${this.#tree.dataBytes} but entries hold ${shape.liveBytes}`)
    }
    // Every named snapshot must read whole: its pages are counted as used or held.
    for (const entry of this.#named.values()) {
      for (const problem of checkTree(this, this.#namedRoot(entry)).problems) problems.push(`snapshot ${JSON.stringify(entry.name)}: ${problem}`)
    }
    // Every byte the head uses must be counted in its segment, or reclamation could remove it.
    const expected = this.#space.pendingBySegment()
    for (const [address, bytes] of shape.pages) addTo(expected, segmentOf(address), RECORD_HEADER_BYTES + bytes)
    for (const [address, keyLength, valueLength] of shape.values) addTo(expected, segmentOf(address), valueRecordBytes(keyLength, valueLength))
    const segments = new Set([...expected.keys(), ...this.#space.live.keys()])
    for (const segment of segments) {
      const counted = this.#space.live.get(segment) ?? 0
      const found = expected.get(segment) ?? 0
      if (counted !== found) problems.push(`segment ${segment}: ${counted} bytes counted as used, ${found} found in use`)
      if (found > 0 && !this.#log.segments().includes(segment)) problems.push(`segment ${segment} is in use but missing`)
    }
    return problems
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#tasks.settled()
    try {
      await this.#checkpointDone
      if (this.#logSinceCheckpoint > 0 && !this.#log.broken && !this.#readOnly) await this.#checkpoint()
    } finally {
      this.#log.close()
      this.#meta.close()
      this.#fs.unlock()
    }
  }

  /** Throws unless writes are possible: not read-only, and no earlier write failed. */
  #assertWritable(): void {
    if (this.#readOnly) throw new StrataError(ErrorCode.READONLY, 'the database was opened read-only')
    if (this.#log.broken) throw new StrataError(ErrorCode.IO_ERROR, 'an earlier write failed; reopen the database', { cause: this.#log.broken })
  }

  #assertOpen(): void {
    if (this.#closed) throw new StrataError(ErrorCode.NOT_OPEN, 'engine is closed')
  }
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

function checkPolicy(policy: CheckpointPolicy): CheckpointPolicy {
  for (const [name, value] of Object.entries(policy)) {
    if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`checkpoint.${name} must be a positive number`)
  }
  if (!Number.isInteger(policy.slicePages)) throw new RangeError('checkpoint.slicePages must be a positive integer')
  return policy
}

function unreachable(): never {
  throw new Error('strata: invariant broken: a new tree has no pages to read')
}

/** Bytes of the PAGE records a spill of `root` will write. */
function measureDirty(root: Node): number {
  if (root.address !== NO_ADDRESS) return 0
  let bytes = RECORD_HEADER_BYTES + root.bytes
  if (!root.leaf) for (const child of root.children) if (typeof child !== 'number') bytes += measureDirty(child)
  return bytes
}

function addTo(map: Map<number, number>, key: number, delta: number): void {
  map.set(key, (map.get(key) ?? 0) + delta)
}

/**
 * A batch in key order (stable, so the last write to a key still wins): consecutive operations
 * find their path in cache.
 */
function inKeyOrder(ops: LoggedOperation[]): LoggedOperation[] {
  return ops.slice().sort((a, b) => compareKeys(a.key, b.key))
}
