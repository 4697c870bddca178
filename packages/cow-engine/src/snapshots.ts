import type { EngineSnapshot, Node, PageSource } from '@strata/btree'
import type { EpochRange } from './page-table.js'

/**
 * A pinned state of a COW engine: a frozen root in memory, its sequence number, and the epoch (the
 * number of checkpoints spilled before it) that decides which old page contents it needs copied
 * before they are overwritten. It reads through its own PageSource, which takes a page from the
 * pre-image store when the page was overwritten after the snapshot, else from pages.db.
 */
export class CowSnapshot implements EngineSnapshot {
  readonly id: number
  readonly seq: number
  readonly epoch: number
  readonly root: Node
  /** Whether a cursor took this snapshot for itself (it pins the state the cursor reads). */
  readonly implicit: boolean
  /** How this snapshot reads pages and values; set by the engine right after creation. */
  source!: PageSource
  #released = false
  /** The user's hold, plus one per open cursor reading through this snapshot. */
  #holds = 1
  readonly #retire: (snapshot: CowSnapshot) => void

  constructor(id: number, seq: number, epoch: number, root: Node, implicit: boolean, retire: (snapshot: CowSnapshot) => void) {
    this.id = id
    this.seq = seq
    this.epoch = epoch
    this.root = root
    this.implicit = implicit
    this.#retire = retire
  }

  get released(): boolean {
    return this.#released
  }

  /** Unpins the state; its pre-images go once no cursor reads through it either. Idempotent. */
  release(): void {
    if (this.#released) return
    this.#released = true
    this.unhold()
  }

  /** A cursor starts reading through this snapshot. */
  hold(): void {
    this.#holds++
  }

  /** A cursor stopped reading through this snapshot. */
  unhold(): void {
    if (--this.#holds === 0) this.#retire(this)
  }
}

/** The snapshots whose pre-images must still be kept: released ones leave once no cursor reads them. */
export class SnapshotRegistry {
  /** Live snapshots by id; ids grow with time, so epochs and seqs never decrease along the map. */
  readonly #live = new Map<number, CowSnapshot>()
  /** Every snapshot this registry made, released or not: how an engine knows its own. */
  readonly #made = new WeakSet<CowSnapshot>()
  #nextId = 1

  /** A new live snapshot; `retire` runs when it is released and no cursor reads it. */
  create(seq: number, epoch: number, root: Node, implicit: boolean, retire: (snapshot: CowSnapshot) => void): CowSnapshot {
    const snapshot = new CowSnapshot(this.#nextId++, seq, epoch, root, implicit, (s) => {
      this.#live.delete(s.id)
      retire(s)
    })
    this.#live.set(snapshot.id, snapshot)
    this.#made.add(snapshot)
    return snapshot
  }

  /** Whether this registry made `snapshot`. */
  owns(snapshot: unknown): snapshot is CowSnapshot {
    return snapshot instanceof CowSnapshot && this.#made.has(snapshot)
  }

  /** How many snapshots (explicit and cursors') are live. */
  get count(): number {
    return this.#live.size
  }

  /** Every live snapshot, oldest first. */
  all(): CowSnapshot[] {
    return [...this.#live.values()]
  }

  /** The live snapshots whose epoch lies in `range`. */
  within(range: EpochRange): CowSnapshot[] {
    const out: CowSnapshot[] = []
    for (const s of this.#live.values()) {
      if (s.epoch >= range.to) break
      if (s.epoch >= range.from) out.push(s)
    }
    return out
  }

  /** Whether any live snapshot has its epoch in `range`. */
  anyWithin(range: EpochRange): boolean {
    for (const s of this.#live.values()) {
      if (s.epoch >= range.to) return false
      if (s.epoch >= range.from) return true
    }
    return false
  }

  /** The live snapshots that see the state after batch `from` and not the one after batch `to` (from ≤ seq < to). */
  seeingSeqs(from: number, to: number): CowSnapshot[] {
    const out: CowSnapshot[] = []
    for (const s of this.#live.values()) {
      if (s.seq >= to) break
      if (s.seq >= from) out.push(s)
    }
    return out
  }

  /** The epoch of the oldest live snapshot; undefined when none is live. */
  oldestEpoch(): number | undefined {
    for (const s of this.#live.values()) return s.epoch
    return undefined
  }
}
