import { compareKeys, decodeNode, decodeValue, isRef, type LoggedOperation, NO_ADDRESS, type Node, type PageAddress, PageCache, type PageSource, Tree, type TreeEvents, type ValueRef } from '@strata/btree'
import { ErrorCode, type FileSystem, type Purpose, StrataError } from '@strata/storage'
import type { Catalogue } from './catalogue.js'
import type { Meta } from './meta.js'
import { OVERFLOW_HEADER_BYTES, overflowChain, readOverflow, type SlotReader } from './overflow.js'
import type { PageFile } from './page-file.js'
import type { PageTable } from './page-table.js'
import type { PreimageStore } from './preimage-store.js'
import { RecordType } from './record.js'
import type { CowSnapshot, SnapshotRegistry } from './snapshots.js'
import { WAL_FILE, type Wal } from './wal.js'
import { isWalValue, lsnOf, WalValues } from './wal-values.js'

/** The files and bookkeeping a database is opened with. */
export interface DatabaseParts {
  fs: FileSystem
  pages: PageFile
  wal: Wal
  table: PageTable
  snapshots: SnapshotRegistry
  store: PreimageStore
  catalogue: Catalogue
  meta: Meta
  /** The page cache's budget in bytes. */
  cacheSize: number
}

/** The version token of a page that a side reads from pages.db as it is now (or is about to be, in flight). */
const CURRENT = Symbol('current page version')

/**
 * One open copy-before-write database: its files, its page table, its snapshots and their store,
 * and the head tree, shared by commits (cow-engine.ts), checkpoints (checkpoint.ts) and recovery
 * (recovery.ts). It is the head tree's page source (pages.db, plus the images of a checkpoint in
 * flight) and hears the head's changes to free pages and values.
 */
export class Database implements PageSource, TreeEvents {
  readonly fs: FileSystem
  readonly pageSize: number
  readonly pages: PageFile
  readonly wal: Wal
  readonly table: PageTable
  readonly snapshots: SnapshotRegistry
  readonly store: PreimageStore
  /** The durable named snapshots and their copy lists. */
  readonly catalogue: Catalogue
  readonly values = new WalValues()
  readonly tree: Tree
  /**
   * Clean pages by page number, each as the head reads it (in flight, else pages.db): a page is
   * forgotten when a checkpoint publishes a new image of it. Snapshots read through it the pages
   * they read as the head does; their pre-images bypass it and count as misses.
   */
  readonly cache: PageCache
  /** The durable checkpoint's meta. */
  meta: Meta
  /** Sequence number of the last batch applied to the head. */
  seq: number
  /**
   * 1 + the checkpoints that have spilled the head in this session: a snapshot taken now has this
   * epoch. Epoch 0 is that of the named snapshots read back at open.
   */
  epoch = 1
  /** Images a checkpoint has logged but not yet written in place, by page. */
  readonly inFlight = new Map<number, Buffer>()
  /** The pages of the overflow chains met this session, by first page, so freeing one needs no reads. */
  readonly chains = new Map<number, number[]>()
  /** The batch being applied: frees made now take effect from it. */
  applyingSeq = 0
  /** Checkpoints that have published images (checkpoint.ts): a slot read that spans one may hold either content. */
  publishes = 0
  /** Gets reading pages in the OS's thread pool (reads.ts `getAsync`): a close lets them finish before closing the files. */
  readonly readsInFlight = new Set<Promise<unknown>>()
  /** Encoded bytes of the clean pages the head copied since the last checkpoint. */
  dirtied = 0
  checkpoints = 0

  constructor(parts: DatabaseParts) {
    this.fs = parts.fs
    this.pageSize = parts.meta.pageSize
    this.pages = parts.pages
    this.wal = parts.wal
    this.table = parts.table
    this.snapshots = parts.snapshots
    this.store = parts.store
    this.catalogue = parts.catalogue
    this.meta = parts.meta
    this.seq = parts.meta.seq
    this.cache = new PageCache(parts.cacheSize)
    this.tree = new Tree(this, this)
  }

  /**
   * Applies a logged batch to the head tree (commit and replay alike). Large values stay in the
   * WAL until the next checkpoint; each is remembered with the batch that wrote it.
   */
  apply(seq: number, ops: LoggedOperation[]): void {
    this.applyingSeq = seq
    this.tree.birth = seq
    // In key order (stable, so the last write to a key still wins), consecutive operations find
    // their path in cache.
    const ordered = ops.length > 16 ? ops.slice().sort((a, b) => compareKeys(a.key, b.key)) : ops
    for (const op of ordered) this.#applyOperation(op, seq)
    this.seq = seq
  }

  /**
   * Applies the operations `each` yields, in key order (the last write to a key last), each with
   * its batch's sequence number, as one state at `seq`: a replayed run's (docs/architecture.md §Replay).
   */
  applyRun(seq: number, each: (apply: (op: LoggedOperation, batchSeq: number) => void) => void): void {
    this.applyingSeq = seq
    this.tree.birth = seq
    each((op, batchSeq) => this.#applyOperation(op, batchSeq))
    this.seq = seq
  }

  /** Applies one operation of batch `seq` to the head. */
  #applyOperation(op: LoggedOperation, seq: number): void {
    if (op.type === 'del') {
      this.tree.del(op.key)
      return
    }
    if (isRef(op.value) && isWalValue(op.value.address)) this.values.logged(lsnOf(op.value.address), op.value.length, seq)
    this.tree.put(op.key, op.value)
  }

  // ── PageSource of the head ──────────────────────────────────────────────────

  loadNode(address: PageAddress): Node {
    return this.#decode(this.headSlot(address, 'page'), address)
  }

  cachedNode(address: PageAddress): Node {
    return this.cache.readThrough(address, this)
  }

  readValue(ref: ValueRef): Buffer {
    if (isWalValue(ref.address)) return this.readWalValue(lsnOf(ref.address), ref.length)
    const { value, pages } = this.readChain((page, purpose) => this.headSlot(page, purpose), ref)
    // Only the head's chains are remembered: a snapshot may read an old chain whose first page
    // the head has since reused.
    this.chains.set(ref.address, pages)
    return value
  }

  /** Page `page` as the head sees it: a checkpoint's image in flight, else pages.db. */
  headSlot(page: number, purpose: Purpose): Buffer {
    return this.inFlight.get(page) ?? this.pages.readSlot(page, purpose)
  }

  /**
   * Page `page` as `snapshot` sees it: its pre-image copy if the page was overwritten after it,
   * else an image in flight if the snapshot may read that version, else pages.db.
   */
  snapshotSlot(snapshot: CowSnapshot, page: number, purpose: Purpose): Buffer {
    const saved = this.store.readPage(snapshot, page)
    if (saved) return saved
    const pending = this.inFlight.get(page)
    if (pending && this.table.visibleFrom(page) <= snapshot.epoch) return pending
    return this.pages.readSlot(page, purpose)
  }

  /** Whether `snapshot` reads page `page` as the head does (no copy of its own; not an image in flight it may not see). */
  readsAsHead(snapshot: CowSnapshot, page: number): boolean {
    if (this.store.has(snapshot, page)) return false
    return !this.inFlight.has(page) || this.table.visibleFrom(page) <= snapshot.epoch
  }

  /**
   * Which version of page `page` a snapshot reads, as a token: its copy's, or CURRENT when it reads
   * pages.db's newest content (its copy-less page was last written at or before its epoch), or
   * undefined when neither holds (then it reads an older version still on pages.db, or never reads
   * the page). Two states reading one version of a page read one subtree below it: a change below
   * a page rewrites the page, since the tree copies the whole path to a change, and a restore brings
   * back whole states.
   */
  versionAt(snapshot: CowSnapshot, page: number): unknown {
    const copy = this.store.versionOf(snapshot, page)
    if (copy !== undefined) return copy
    return this.table.visibleFrom(page) <= snapshot.epoch ? CURRENT : undefined
  }

  /** The version token of pages the head reads when it is clean (just checkpointed): pages.db as it is. */
  get currentVersion(): unknown {
    return CURRENT
  }

  /** Whether a named snapshot in the catalogue may still need what `page` holds if checkpoint `epoch` overwrites it. */
  namedNeed(page: number, epoch: number): boolean {
    const range = this.table.oldContent(page, epoch)
    if (range === undefined) return false
    return this.snapshots.within(range).some((s) => s.named !== undefined && !this.store.has(s, page))
  }

  /** The page source a snapshot's reads go through. */
  sourceFor(snapshot: CowSnapshot): PageSource {
    const slot = (page: number, purpose: Purpose) => this.snapshotSlot(snapshot, page, purpose)
    const loadNode = (address: PageAddress) => this.#decode(slot(address, 'page'), address)
    return {
      pageSize: this.pageSize,
      loadNode,
      // The head's version when the snapshot reads what the head reads; its own copy, or an older
      // version still on pages.db, past the cache.
      cachedNode: (address) => {
        if (this.readsAsHead(snapshot, address)) return this.cachedNode(address)
        this.cache.countMiss()
        return loadNode(address)
      },
      readValue: (ref) => {
        if (!isWalValue(ref.address)) return this.readChain(slot, ref).value
        // A value a checkpoint saved for the snapshot, or moved to a chain, reads from there: the
        // WAL may have been cut (by a reset, or by one that failed half way).
        const lsn = lsnOf(ref.address)
        const saved = this.store.readValue(snapshot, lsn)
        if (saved !== undefined) {
          if (saved.length !== ref.length) throw new StrataError(ErrorCode.CORRUPTION, `the value saved for snapshot ${snapshot.seq} from WAL LSN ${lsn} has another length`)
          return saved
        }
        const moved = this.values.movedTo(lsn)
        if (moved !== undefined) return this.readChain(slot, { address: moved, length: ref.length }).value
        if (lsn >= this.wal.base) return this.readWalValue(lsn, ref.length)
        throw new StrataError(ErrorCode.CORRUPTION, `the value at WAL LSN ${lsn} is neither in the WAL nor saved for snapshot ${snapshot.seq}`)
      },
    }
  }

  /**
   * The head's page `page` read without blocking the event loop (in the OS's thread pool), for a
   * get whose path leaves memory there, and held in the cache; undefined if a checkpoint
   * published images meanwhile ({@link publishes}), since it may have rewritten the slot under the
   * read. Where pages.db cannot read so (a file in memory), reads at once.
   */
  async readPageAsync(page: PageAddress): Promise<Node | undefined> {
    const reading = this.pages.readSlotAsync(page, 'page')
    if (reading === undefined) return this.cachedNode(page)
    const published = this.publishes
    const slot = await reading
    this.cache.countMiss()
    if (this.publishes !== published) return undefined
    const node = this.#decode(slot, page)
    this.cache.admit(page, node)
    return node
  }

  #decode(slot: Buffer, address: PageAddress): Node {
    const node = decodeNode(slot, address, 0, this.pages.location, address * this.pageSize)
    this.pages.verifyPadding(slot, node.bytes, address)
    return node
  }

  /** Reads and verifies the VALUE record at `lsn`, which must hold a value of `length` bytes. */
  readWalValue(lsn: number, length: number): Buffer {
    return this.readWalValueFor(lsn, length, 'value')
  }

  /** {@link readWalValue}, counting the read under `purpose` (a checkpoint moving or saving the value). */
  readWalValueFor(lsn: number, length: number, purpose: Purpose): Buffer {
    const where = `${this.fs.location}/${WAL_FILE}`
    const record = this.wal.readRecord(lsn, purpose)
    if (record.type !== RecordType.VALUE) throw new StrataError(ErrorCode.CORRUPTION, `value reference names a record that is not a value in ${where} at LSN ${lsn}`)
    const { value } = decodeValue(record.payload, where, lsn)
    if (value.length !== length) throw new StrataError(ErrorCode.CORRUPTION, `value length differs from its reference in ${where} at LSN ${lsn}`)
    return value
  }

  /** Reads the overflow chain `ref` names through `slot`: the value, and the pages it occupies. */
  readChain(slot: (page: number, purpose: Purpose) => Buffer, ref: ValueRef): { value: Buffer; pages: number[] } {
    const read: SlotReader = (page) => slot(page, 'value')
    return readOverflow(read, ref.address, ref.length, this.pageSize, this.pages.location)
  }

  /** The pages of the chain `ref` names (following its page headers if not met before). */
  chainPages(ref: ValueRef): number[] {
    const known = this.chains.get(ref.address)
    if (known) return known
    const readHeader = (page: number) => this.inFlight.get(page)?.subarray(0, OVERFLOW_HEADER_BYTES) ?? this.pages.readHead(page, OVERFLOW_HEADER_BYTES, 'value')
    return overflowChain(readHeader, ref.address, ref.length, this.pageSize, this.pages.location)
  }

  // ── TreeEvents: what the head stops using ─────────────────────────────────────

  rewritten(node: Node): void {
    this.dirtied += node.bytes
  }

  removed(node: Node): void {
    const page = node.address !== NO_ADDRESS ? node.address : node.home
    if (page !== NO_ADDRESS) this.table.free(page)
  }

  valueRemoved(_key: Buffer, ref: ValueRef): void {
    if (isWalValue(ref.address)) {
      this.values.removed(lsnOf(ref.address), this.applyingSeq)
      return
    }
    for (const page of this.chainPages(ref)) this.table.free(page)
    this.chains.delete(ref.address)
  }

  /** Bytes of every file of the database. */
  fileBytes(): number {
    return this.pages.size() + this.wal.fileBytes() + this.store.bytes()
  }

  /**
   * Bytes of the files that have more than one name (hard links). Each is asked on every call, one
   * `fstat` apiece (a few µs): a database has pages.db, wal.log and a store file or a few.
   */
  sharedBytes(): number {
    return this.pages.sharedBytes() + this.wal.sharedBytes() + this.store.sharedBytes()
  }

  /** Closes every file; the store keeps only the copies of the named snapshots in the catalogue. */
  close(): void {
    const named = new Set(this.snapshots.named().map((s) => s.id))
    this.store.close((id) => named.has(id))
    this.wal.close()
    this.pages.close()
  }
}
