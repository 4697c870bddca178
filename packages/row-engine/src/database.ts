import { decodeNode, decodeValue, NO_ADDRESS, type Node, PAGE_HEADER_BYTES, type PageAddress, PageCache, pageImageLength, type PageSource, TaskQueue, Tree, type TreeEvents, valueRecordBytes, type ValueRef } from '@strata/btree'
import { corruption, ErrorCode, type FileSystem, RECORD_HEADER_BYTES, StrataError } from '@strata/storage'
import { type LogAddress, offsetOf, segmentOf } from './address.js'
import type { CheckpointPolicy, FrozenCheckpoint } from './checkpoint.js'
import type { SyncingBatch } from './commit.js'
import type { MetaFile } from './meta.js'
import type { NamedEntry } from './named.js'
import { RecordType } from './record.js'
import { type SegmentLog, segmentName } from './segment-log.js'
import { SpaceMap } from './space.js'

/**
 * One open redirect-on-write database: its log, META, space map and head tree, and the state that
 * commits (commit.ts), checkpoints (checkpoint.ts), cleaning (cleaning.ts), reads (reads.ts),
 * named snapshots (named.ts) and recovery (recovery.ts) share. It is the head tree's page source
 * (the log) and hears the head's changes to count space.
 */
export class Database implements PageSource, TreeEvents {
  readonly fs: FileSystem
  readonly log: SegmentLog
  readonly meta: MetaFile
  readonly policy: CheckpointPolicy
  readonly pageSize: number
  /** Where {@link Database.loadNode} reads a page before copying out its image. */
  readonly #pageRead: Buffer
  /**
   * While set (a replay's key-ordered walk over the leaves, which a checkpoint laid out in key
   * order), a page read reads this many bytes from the page on and serves the next pages from them.
   */
  #readAhead: { window: Buffer; start: number; got: number } | undefined
  readonly space = new SpaceMap()
  readonly tree: Tree
  /** Clean pages by address, within the `cacheSize` budget. A log address names one page for ever. */
  readonly cache: PageCache
  /** Nothing in the folder is written: see RowEngineOptions.readOnly. */
  readonly readOnly: boolean
  /** The newest state that is durable (or written, for sync: false) and so visible to readers. */
  visible: Node
  /**
   * Whether `visible` is frozen. A reader that keeps a root past its call (a snapshot, a cursor,
   * a diff, a named snapshot) freezes it first (reads.ts, `keptRoot`), so later writes copy what
   * it reaches. Batches alone leave the head unfrozen: what no reader kept, the next batch
   * changes in place instead of copying every node it touches.
   */
  visibleFrozen = false
  /** A synced batch applied to the head before its sync ended, until it ends. */
  syncing: SyncingBatch | undefined
  /**
   * Synced batches still to apply only once durable, after a reader had to take one back out: a
   * workload that keeps roots while it writes pays for a take-back at most once in this many.
   */
  batchesToApplyLate = 0
  /** Sequence number of the newest batch in the head. */
  seq: number
  /** Address of the newest durable checkpoint record. */
  checkpointAt: LogAddress
  /** Where recovery replays from: just past that record, or before it if it was written beside the writes. Segments from this one's on are kept. */
  replayFrom: LogAddress
  /** The checkpoint under way beside the writes, from the moment it froze the head's state until its record is laid out (checkpoint.ts). */
  frozen: FrozenCheckpoint | undefined
  /** Bytes logged since the newest checkpoint: what recovery would replay. */
  logSinceCheckpoint = 0
  /** Bytes of the clean pages the head changed since the newest checkpoint: the policy weighs the log against them. */
  dirtiedSinceCheckpoint = 0
  /** This machine's replay speed against the estimate's (`calibrateReplay`), as the last replay measured it. */
  replayScale = 1
  /** Checkpoints made durable in this session. */
  checkpoints = 0
  /** Writes, checkpoints, cleaning and named snapshot changes, one at a time. */
  readonly tasks = new TaskQueue()
  /** Named snapshots: durable, each a pinned root. */
  readonly named = new Map<string, NamedEntry>()
  /** Set by `close()`: every call after it throws LEVEL_DATABASE_NOT_OPEN. */
  closed = false
  /** Whether a checkpoint is laid out and not yet durable (or waits to be laid out): `checkpointDone` is pending. */
  checkpointInFlight = false
  /** Whether a policy checkpoint is queued or under way in turns (checkpoint.ts, `queueCheckpointTurn`). */
  checkpointQueued = false
  /** Bytes of the pages cleaning relocated since the last checkpoint: the next one counts them as `reclaim`. */
  relocatedBytes = 0
  /** Whether cleaning is under way beside the writes (cleaning.ts `queueCleaning`): one at a time. */
  cleaning = false
  /** Bytes of PAGE records a policy checkpoint under way has written ahead of its CHECKPOINT record. */
  slicedBytes = 0
  /**
   * Segments that may hold VALUE records (every segment found at open, then those values are
   * appended to): cleaning reads these through, and finds the pages of the others in the tree.
   */
  readonly valueSegments = new Set<number>()
  /**
   * The oldest `born` of what was written to each segment in this session (0 for values, whose
   * birth is not recorded, and for every segment found at open): a pin at or after it may share
   * a page there with the head, and cleaning would then copy the page, not free it.
   */
  readonly oldestBorn = new Map<number, number>()
  /** Whether the next batch starts a new segment: the first after a checkpoint's pages (see checkpoint.ts, `startSegment`). */
  logAfterCheckpoint = false
  /** Settles once the newest checkpoint is durable (or has failed, which stops writes). */
  checkpointDone: Promise<void> = Promise.resolve()

  constructor(fs: FileSystem, log: SegmentLog, meta: MetaFile, policy: CheckpointPolicy, options: { created: boolean; readOnly: boolean; cacheSize: number }) {
    this.fs = fs
    this.log = log
    this.meta = meta
    this.policy = policy
    this.readOnly = options.readOnly
    this.pageSize = meta.current.pageSize
    this.#pageRead = Buffer.allocUnsafeSlow(this.pageSize)
    this.cache = new PageCache(options.cacheSize)
    this.checkpointAt = meta.current.checkpoint as LogAddress
    this.replayFrom = this.checkpointAt
    this.seq = meta.current.checkpointSeq
    this.tree = new Tree(this, this)
    this.visible = this.tree.root
    // A new database's first segment holds its empty root page and first checkpoint, no values.
    if (!options.created) for (const segment of log.segments()) this.valueSegments.add(segment)
  }

  /** Makes the head the visible state; `frozen` if it is to stay as it is (see `visibleFrozen`). */
  publish(frozen: boolean): void {
    this.visible = frozen ? this.tree.freeze() : this.tree.root
    this.visibleFrozen = frozen
  }

  /** Notes that a page or value born at `born` was written at `address`. */
  noteBorn(address: number, born: number): void {
    const segment = segmentOf(address)
    const oldest = this.oldestBorn.get(segment)
    if (oldest === undefined || born < oldest) this.oldestBorn.set(segment, born)
  }

  /** Gets reading pages in the OS's thread pool (reads.ts `getAsync`): a close lets them finish before closing the files. */
  readonly readsInFlight = new Set<Promise<unknown>>()

  /** Throws LEVEL_DATABASE_NOT_OPEN once the engine is closed. */
  assertOpen(): void {
    if (this.closed) throw new StrataError(ErrorCode.NOT_OPEN, 'engine is closed')
  }

  /** Throws unless writes are possible: not read-only, and no earlier write failed. */
  assertWritable(): void {
    if (this.readOnly) throw new StrataError(ErrorCode.READONLY, 'the database was opened read-only')
    if (this.log.broken) throw new StrataError(ErrorCode.IO_ERROR, 'an earlier write failed; reopen the database', { cause: this.log.broken })
  }

  // ── PageSource: how the tree reads pages and values ─────────────────────────

  /**
   * Pages read ahead for the task running now (cleaning's turns, cleaning.ts): `cachedNode` takes
   * one from here where the cache lacks it, and leaves the cache as it is: cleaning reads cold pages
   * once, to move them, and they would only push out the pages the writes use.
   */
  pagesAhead: Map<PageAddress, Node> | undefined

  cachedNode(address: PageAddress): Node {
    const ahead = this.pagesAhead?.get(address)
    if (ahead === undefined || this.cache.peek(address) !== undefined) return this.cache.readThrough(address, this)
    return ahead
  }

  loadNode(address: PageAddress): Node {
    // One read of as many bytes as a page can hold (fewer at a segment's end); the header then
    // says how many of them are the page's. A longer claim is read on, and decoding judges it.
    // The read lands in a buffer kept for it: a new 4 KiB buffer for every page costs more than the
    // read itself, and the page's own copy comes from Node's pool of small buffers.
    const read = this.#pageRead
    const got = this.#readAhead ? this.#readAheadInto(address, read) : this.log.readInto(address, read, 'page')
    return this.#decodePage(address, read, got)
  }

  /**
   * Reads the page at `address` without blocking the event loop (the read runs in the OS's thread
   * pool), for a `get` whose path leaves memory there, and holds it in the page cache (unless not to
   * `admit` it: the caller holds it). Where the
   * log cannot read so (a file in memory), reads it at once.
   */
  async readPageAsync(address: PageAddress, admit = true): Promise<Node> {
    const read = Buffer.allocUnsafe(this.#pageRead.length)
    const reading = this.log.readIntoAsync(address, read, 'page')
    if (reading === undefined) return admit ? this.cachedNode(address) : this.loadNode(address)
    const node = this.#decodePage(address, read, await reading)
    this.cache.countMiss()
    if (admit) this.cache.admit(address, node)
    return node
  }

  /** The node of the page at `address`, whose first `got` bytes are in `read`. */
  #decodePage(address: PageAddress, read: Buffer, got: number): Node {
    const where = segmentName(segmentOf(address))
    if (got < PAGE_HEADER_BYTES) throw corruption(where, offsetOf(address), 'truncated page')
    const length = pageImageLength(read)
    const image =
      length <= got
        ? Buffer.from(read.subarray(0, length))
        : Buffer.concat([read.subarray(0, got), this.log.read(address + got, length - got, 'page')])
    return decodeNode(image, address, 0, where, offsetOf(address))
  }

  /** Turns read-ahead of `bytes` on (see `#readAhead`), or off with 0. */
  readAhead(bytes: number): void {
    this.#readAhead = bytes > 0 ? { window: Buffer.allocUnsafeSlow(bytes), start: 0, got: 0 } : undefined
  }

  /** Reads the page at `address` into `read` through the read-ahead window; returns the bytes read (fewer at a segment's end). */
  #readAheadInto(address: PageAddress, read: Buffer): number {
    const ahead = this.#readAhead as { window: Buffer; start: number; got: number }
    let at = address - ahead.start
    // Outside the window, or running past its end where the segment goes on: read the window anew.
    if (at < 0 || at >= ahead.got || (at + read.length > ahead.got && ahead.got === ahead.window.length)) {
      ahead.start = address
      ahead.got = this.log.readInto(address, ahead.window, 'page')
      at = 0
    }
    return ahead.window.copy(read, 0, at, Math.min(ahead.got, at + read.length))
  }

  readValue(ref: ValueRef): Buffer {
    const record = this.log.readRecord(ref.address, 'value')
    const where = segmentName(segmentOf(ref.address))
    if (record.type !== RecordType.VALUE) throw corruption(where, offsetOf(ref.address), 'value reference names a record that is not a value')
    const { value } = decodeValue(record.payload, where, offsetOf(ref.address))
    if (value.length !== ref.length) throw corruption(where, offsetOf(ref.address), 'value length differs from its reference')
    return value
  }

  // ── TreeEvents: space accounting as the head changes ────────────────────────

  rewritten(node: Node): void {
    this.space.free({ address: node.address, bytes: RECORD_HEADER_BYTES + node.bytes, born: node.born, seq: this.seq + 1 })
    this.dirtiedSinceCheckpoint += node.bytes
  }

  removed(node: Node): void {
    if (node.address !== NO_ADDRESS) this.space.free({ address: node.address, bytes: RECORD_HEADER_BYTES + node.bytes, born: node.born, seq: this.seq + 1 })
    else this.copied(node)
  }

  copied(node: Node): void {
    // A node of the frozen state that the checkpoint has yet to write: once written, its page is
    // freed as of now (checkpoint.ts, `noteWritten`).
    this.frozen?.left.set(node, this.seq + 1)
  }

  valueRemoved(key: Buffer, ref: ValueRef): void {
    // A value's birth is not recorded, so any older pin may need it.
    this.space.free({ address: ref.address, bytes: valueRecordBytes(key.length, ref.length), born: 0, seq: this.seq + 1 })
  }
}
