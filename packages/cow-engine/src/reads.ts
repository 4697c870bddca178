import { type Change, type DiffCost, type DiffSide, diffTrees, type EngineCursor, engineCursor, type EngineSnapshot, isRef, lookup, lookupInMemory, type Node, type PageAddress, type PageSource, type Range, type StoredValue } from '@strata/btree'
import { ErrorCode, StrataError } from '@strata/storage'
import type { Database } from './database.js'
import { NamedHandle } from './named.js'
import type { CowSnapshot } from './snapshots.js'

/**
 * Pages a `getAsync` reads without blocking before it reads the rest of its path at once: a tree
 * is a few levels deep, so a get nears it only when its cache lets pages go between its reads.
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
   * (docs/architecture.md §The page cache): a path all in memory answers at once; else the call
   * holds an implicit snapshot (it answers as of the call) and reads each missing page with
   * `Database.readPageAsync`, then looks again. A read at a snapshot, and a value stored outside
   * its leaf, are read at once.
   */
  async getAsync(key: Uint8Array, at?: EngineSnapshot): Promise<Buffer | undefined> {
    if (at) return this.get(key, at)
    const db = this.#db
    const now = lookupInMemory(this.visible, key, (page) => db.cache.peek(page))
    if (now.found) return valueOf(db, now.value)
    const { snapshot, done } = this.#pin(undefined)
    // The pages this call read, kept by it: the cache may let them go before it looks again.
    const read = new Map<PageAddress, Node>()
    const peek = (page: PageAddress) => read.get(page) ?? (db.readsAsHead(snapshot, page) ? db.cache.peek(page) : undefined)
    try {
      let path = lookupInMemory(snapshot.root, key, peek)
      for (let reads = 0; reads < ASYNC_PAGE_READS && !path.found; reads++) {
        const page = path.missing
        try {
          read.set(page, await db.readPageAsync(snapshot, page))
        } finally {
          this.#assertOpen()
        }
        path = lookupInMemory(snapshot.root, key, peek)
      }
      return valueOf(snapshot.source, path.found ? path.value : lookup(snapshot.source, snapshot.root, key))
    } finally {
      done()
    }
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
