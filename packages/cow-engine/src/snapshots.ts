import type { EngineSnapshot, Node, PageSource } from '@strata/btree'
import type { NamedRecord } from './catalogue.js'
import type { EpochRange } from './page-table.js'

/** What a new snapshot is. */
export interface SnapshotSpec {
  seq: number
  epoch: number
  /** Its root; a named snapshot read back at open gets it once its store is ready. */
  root?: Node
  /** Whether a cursor or a diff took it for itself. */
  implicit: boolean
  /** The catalogue record of a named snapshot; undefined for in-process snapshots. */
  named?: NamedRecord
  /** The number of a named snapshot read back from the catalogue; new snapshots get the next one. */
  id?: number
}

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
  /** The root of its tree; set once, at creation or (for a named snapshot read back at open) right after. */
  root!: Node
  /** Whether a cursor took this snapshot for itself (it pins the state the cursor reads). */
  readonly implicit: boolean
  /**
   * The catalogue record while this is a durable named snapshot. A deleted named snapshot that a
   * reader still holds lives on without one, like an in-process snapshot.
   */
  named: NamedRecord | undefined
  /**
   * Whether its tree may name large values by WAL address. A named snapshot's state was
   * checkpointed first, so its tree names none.
   */
  readonly namesWalValues: boolean
  /** How this snapshot reads pages and values; set by the engine right after creation. */
  source!: PageSource
  #released = false
  /** The user's hold, plus one per open cursor reading through this snapshot. */
  #holds = 1
  readonly #retire: (snapshot: CowSnapshot) => void

  constructor(id: number, spec: SnapshotSpec, retire: (snapshot: CowSnapshot) => void) {
    this.id = id
    this.seq = spec.seq
    this.epoch = spec.epoch
    if (spec.root) this.root = spec.root
    this.implicit = spec.implicit
    this.named = spec.named
    this.namesWalValues = spec.named === undefined
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

  /**
   * A new live snapshot; `retire` runs when it is released and no cursor reads it. Named
   * snapshots read back at open come first, oldest first, so epochs and seqs still grow along
   * the registry.
   */
  create(spec: SnapshotSpec, retire: (snapshot: CowSnapshot) => void): CowSnapshot {
    const id = spec.id ?? this.#nextId
    this.#nextId = Math.max(this.#nextId, id + 1)
    const snapshot = new CowSnapshot(id, spec, (s) => {
      this.#live.delete(s.id)
      retire(s)
    })
    this.#live.set(snapshot.id, snapshot)
    this.#made.add(snapshot)
    return snapshot
  }

  /** Reserves the number of a snapshot about to be created (a named snapshot's, written into the catalogue first). */
  reserveId(): number {
    return this.#nextId++
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

  /** The epoch of the oldest live snapshot that may name large values by WAL address; undefined when none is live. */
  oldestEpoch(): number | undefined {
    for (const s of this.#live.values()) if (s.namesWalValues) return s.epoch
    return undefined
  }

  /** The live named snapshots in the catalogue. */
  named(): CowSnapshot[] {
    return this.all().filter((s) => s.named !== undefined)
  }
}
