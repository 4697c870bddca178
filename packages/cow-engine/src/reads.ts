import { type Change, type DiffCost, type DiffSide, diffTrees, type EngineCursor, engineCursor, type EngineSnapshot, isRef, lookup, type Node, type PageSource, type Range } from '@strata/btree'
import { ErrorCode, StrataError } from '@strata/storage'
import type { Database } from './database.js'
import { NamedHandle } from './named.js'
import type { CowSnapshot } from './snapshots.js'

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
    const value = lookup(source, snapshot ? snapshot.root : this.visible, key)
    if (value === undefined || !isRef(value)) return value
    return source.readValue(value)
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
