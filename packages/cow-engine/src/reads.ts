import { type Change, type DiffCost, type DiffSide, diffTrees, type EngineCursor, engineCursor, type EngineSnapshot, isRef, lookup, lookupInMemory, type Node, type PageAddress, type PageSource, type Range, type StoredValue } from '@strata/btree'
import { ErrorCode, StrataError } from '@strata/storage'
import type { Database } from './database.js'
import { NamedHandle } from './named.js'
import type { CowSnapshot } from './snapshots.js'

/**
 * Pages a `getAsync` reads without blocking before it reads the rest of its path at once: a tree
 * is a few levels deep, so a get nears it only when its cache lets pages go between its reads, or
 * checkpoints keep rewriting pages under it.
 */
const ASYNC_PAGE_READS = 16

/** A value as a get returns it: read through `source` if stored outside its leaf. */
function valueOf(source: PageSource, value: StoredValue | undefined): Buffer | undefined {
  if (value === undefined || !isRef(value)) return value
  return source.readValue(value)
}

/** A snapshot a read holds, and how to let it go. */
interface Pinned {
  snapshot: CowSnapshot
  done: () => void
}

/**
 * What readers see of a COW engine, and how they read it (docs/architecture.md §Reads through a
 * snapshot): the visible state, snapshots of it, cursors and diffs. Every read that outlives a
 * call goes through a snapshot it holds, so the pre-images of the state it reads stay until it
 * ends.
 */
export class Reads {
  readonly #db: Database
  readonly #retire: (snapshot: CowSnapshot) => void
  readonly #assertOpen: () => void
  /** The newest state that is durable (or written, for sync: false) and so visible to readers. */
  visible: Node
  /**
   * While a restore is made durable: the epoch of the state readers still see (the head tree is
   * already the restored one, at the next sequence number).
   */
  restoringFrom: number | undefined
  /** Gets reading pages off the thread, by the epoch of the state they read, with the snapshot a checkpoint took for them. */
  readonly #gets = new Map<number, { count: number; snapshot: CowSnapshot | undefined }>()
  /** A checkpoint is under way (from {@link holdForGets} to {@link checkpointEnded}). */
  #checkpointing = false

  constructor(db: Database, retire: (snapshot: CowSnapshot) => void, assertOpen: () => void) {
    this.#db = db
    this.#retire = retire
    this.#assertOpen = assertOpen
    this.visible = db.tree.freeze()
  }

  /** The sequence number of the visible state. */
  get seq(): number {
    return this.restoringFrom === undefined ? this.#db.seq : this.#db.seq - 1
  }

  get(key: Uint8Array, at?: EngineSnapshot): Buffer | undefined {
    const snapshot = at ? this.own(at) : undefined
    const source: PageSource = snapshot ? snapshot.source : this.#db
    return valueOf(source, lookup(source, snapshot ? snapshot.root : this.visible, key))
  }

  /**
   * {@link get} of the visible state, reading the pages it lacks without blocking the event loop
   * (docs/architecture.md §The page cache). The visible root is frozen, and every page it names
   * holds what it read when the call began until a checkpoint publishes new images
   * (`Database.publishes`). So the call holds no snapshot of its own (each would cost the next
   * checkpoint pre-image copies): it reads each missing page in the OS's thread pool and looks
   * again; a checkpoint that starts meanwhile first takes one implicit snapshot for every such get
   * of the state's epoch ({@link holdForGets}), and a get that sees it published reads the rest of
   * its path through that snapshot, at once. A get that misses while a checkpoint is under way, a
   * read at a snapshot, and a value stored outside its leaf, are read at once. `db.readsInFlight` holds the call until it ends, so a close lets it
   * finish.
   */
  getAsync(key: Uint8Array, at?: EngineSnapshot): Promise<Buffer | undefined> {
    if (at) return Promise.resolve(this.get(key, at))
    const db = this.#db
    const now = this.#walk(this.visible, key, new Map())
    if (now.found) return Promise.resolve(valueOf(db, now.value))
    // A checkpoint under way may be writing the very slots: read at once, as get does.
    if (this.#checkpointing) return Promise.resolve(this.get(key))
    const call = this.#readPath(key)
    db.readsInFlight.add(call)
    return call.finally(() => db.readsInFlight.delete(call))
  }

  /**
   * Before a checkpoint: gets reading pages of the visible state's epoch share one implicit
   * snapshot of it, so that the pages the checkpoint overwrites are copied for them.
   */
  holdForGets(): void {
    this.#checkpointing = true
    const gets = this.#gets.get(this.#epoch)
    if (gets && !gets.snapshot) gets.snapshot = this.snapshot(true)
  }

  /** A checkpoint ended: gets read pages off the thread again. */
  checkpointEnded(): void {
    this.#checkpointing = false
  }

  /** The epoch of the visible state. */
  get #epoch(): number {
    return this.restoringFrom ?? this.#db.epoch
  }

  /** The slow path of {@link getAsync}: the pages the visible state lacks, read off the thread one by one. */
  async #readPath(key: Uint8Array): Promise<Buffer | undefined> {
    const db = this.#db
    const epoch = this.#epoch
    const gets = this.#gets.get(epoch) ?? { count: 0, snapshot: undefined }
    this.#gets.set(epoch, gets)
    gets.count++
    const root = this.visible
    const published = db.publishes
    // The pages this call read, kept by it: the cache may let them go before it looks again.
    const read = new Map<PageAddress, Node>()
    try {
      let path = this.#walk(root, key, read)
      for (let reads = 0; reads < ASYNC_PAGE_READS && !path.found; reads++) {
        const page = path.missing
        // An image in flight (a checkpoint of this very state is being written) is in memory.
        const node = db.inFlight.has(page) ? db.cachedNode(page) : await db.readPageAsync(page)
        if (node === undefined || db.publishes !== published) break
        read.set(page, node)
        path = this.#walk(root, key, read)
      }
      if (path.found && db.publishes === published) return valueOf(db, path.value)
      // A checkpoint published images meanwhile, or the path is long: the rest at once, through
      // the snapshot a checkpoint took for this state if one did.
      const source: PageSource = gets.snapshot ? gets.snapshot.source : db
      if (!gets.snapshot && db.publishes !== published) throw new Error('strata: invariant broken: a checkpoint overwrote pages a get was reading without keeping them')
      return valueOf(source, lookup(source, root, key))
    } finally {
      gets.count--
      if (gets.count === 0) {
        this.#gets.delete(epoch)
        gets.snapshot?.release()
      }
    }
  }

  /** The path to `key` from the head's `root` through the nodes in memory, counting a cache hit per page the cache gave once it ends. */
  #walk(root: Node, key: Uint8Array, read: Map<PageAddress, Node>): ReturnType<typeof lookupInMemory> {
    const cache = this.#db.cache
    const hits: PageAddress[] = []
    const path = lookupInMemory(root, key, (page) => {
      const own = read.get(page)
      if (own) return own
      const cached = cache.peek(page)
      if (cached) hits.push(page)
      return cached
    })
    if (path.found) for (const page of hits) cache.countHit(page)
    return path
  }

  iterate(range: Range, at?: EngineSnapshot): EngineCursor {
    const { snapshot, done } = this.#pin(at)
    return engineCursor(snapshot.source, snapshot.root, range, { assertOpen: () => this.#assertOpen(), release: done })
  }

  /** A new snapshot of the visible state: explicit, or implicit (a cursor's or a diff's own). */
  snapshot(implicit: boolean): CowSnapshot {
    const db = this.#db
    const snapshot = db.snapshots.create({ seq: this.seq, epoch: this.restoringFrom ?? db.epoch, root: this.visible, implicit }, this.#retire)
    snapshot.source = db.sourceFor(snapshot)
    return snapshot
  }

  /** The snapshot `at` names (an engine snapshot or a named snapshot's handle); TypeError if another engine's, SNAPSHOT_NOT_OPEN if released. */
  own(at: EngineSnapshot): CowSnapshot {
    const snapshot = at instanceof NamedHandle ? at.snapshot : at
    if (!this.#db.snapshots.owns(snapshot)) throw new TypeError('snapshot does not belong to this engine')
    if (at.released) throw new StrataError(ErrorCode.SNAPSHOT_NOT_OPEN, 'snapshot was released')
    return snapshot
  }

  /** The changes from `from` to `to` (undefined: the visible state), both held while the walk goes on. */
  diff(from: EngineSnapshot | undefined, to: EngineSnapshot | undefined, cost?: DiffCost): Iterable<Change> {
    if (from) this.own(from)
    if (to) this.own(to)
    return this.#diff(from, to, cost)
  }

  *#diff(from: EngineSnapshot | undefined, to: EngineSnapshot | undefined, cost?: DiffCost): Generator<Change> {
    const a = this.#pin(from)
    let b: Pinned | undefined
    try {
      b = this.#pin(to)
      // Pages are overwritten in place, so an address alone proves nothing: the sides compare the
      // versions they read (Database.versionAt).
      const side = (s: CowSnapshot): DiffSide => ({ source: s.source, root: s.root, versionAt: (page) => this.#db.versionAt(s, page) })
      yield* diffTrees(side(a.snapshot), side(b.snapshot), false, cost)
    } finally {
      a.done()
      b?.done()
    }
  }

  /** The snapshot a read goes through, held until `done`: `at`'s, or an implicit one of the visible state. */
  #pin(at: EngineSnapshot | undefined): Pinned {
    if (!at) {
      const snapshot = this.snapshot(true)
      return { snapshot, done: () => snapshot.release() }
    }
    const snapshot = this.own(at)
    snapshot.hold()
    return { snapshot, done: () => snapshot.unhold() }
  }
}
