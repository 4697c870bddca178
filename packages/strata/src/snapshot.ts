import type { Engine, EngineSnapshot } from '@strata/btree'
import { ErrorCode, StrataError } from '@strata/storage'
import { AbstractSnapshot } from 'abstract-level'

/** Symbol-keyed members, so the snapshot's internals stay off the surface users see. */
const kPinned = Symbol('pinned')
const kRetain = Symbol('retain')
const kRelease = Symbol('release')

/** abstract-level's declarations omit the constructor that takes the owner option. */
const SnapshotBase = AbstractSnapshot as unknown as new (options: object) => AbstractSnapshot

/**
 * An explicit snapshot (`db.snapshot()`): an engine snapshot, pinned in O(1) when it is created
 * and released when it is closed. Reads hold it through abstract-level's `ref()`; an iterator
 * holds it from its creation to its close (see {@link retainSnapshot}), so that the pages it
 * walks, even by `seek()`, which takes no `ref()`, outlive an early `snapshot.close()`.
 */
export class StrataSnapshot extends SnapshotBase {
  readonly #engine: Engine
  readonly #pinned: EngineSnapshot
  #holders = 0
  #closed = false

  constructor(options: object, engine: Engine) {
    // Pin first: the base constructor registers the snapshot with its database, which closes
    // every registered snapshot on close, so one whose pin failed must never be registered.
    const pinned = engine.snapshot()
    try {
      super(options)
    } catch (error) {
      pinned.release()
      throw error
    }
    this.#engine = engine
    this.#pinned = pinned
  }

  /** The engine state to read, after checking the snapshot is this engine's and still open. */
  [kPinned](engine: Engine): EngineSnapshot {
    if (engine !== this.#engine) throw new TypeError('The snapshot belongs to another database (or to an earlier open of this one)')
    if (this.#pinned.released) throw new StrataError(ErrorCode.SNAPSHOT_NOT_OPEN, 'Snapshot is not open: cannot use snapshot after close()')
    return this.#pinned
  }

  /** Holds the engine state for an iterator; undefined if the snapshot is already closed. */
  [kRetain](engine: Engine): EngineSnapshot | undefined {
    if (this.#closed) return undefined
    const pinned = this[kPinned](engine)
    this.#holders++
    return pinned
  }

  /** Ends an iterator's hold; the last one out after close releases the engine state. */
  [kRelease](): void {
    this.#holders--
    if (this.#closed && this.#holders === 0) this.#pinned.release()
  }

  /** Called once by abstract-level when no read is in flight; iterators may still hold the state. */
  async _close(): Promise<void> {
    this.#closed = true
    if (this.#holders === 0) this.#pinned.release()
  }
}

function asStrataSnapshot(snapshot: unknown): StrataSnapshot {
  if (snapshot instanceof StrataSnapshot) return snapshot
  throw new TypeError("The 'snapshot' option must be a snapshot made by this StrataLevel's snapshot()")
}

/** The engine state a read with `snapshot` sees: the head when there is none. */
export function pinnedState(snapshot: unknown, engine: Engine): EngineSnapshot | undefined {
  return snapshot === undefined || snapshot === null ? undefined : asStrataSnapshot(snapshot)[kPinned](engine)
}

/** Holds `snapshot`'s engine state until {@link releaseSnapshot}; undefined if it is closed already. */
export function retainSnapshot(snapshot: unknown, engine: Engine): EngineSnapshot | undefined {
  return asStrataSnapshot(snapshot)[kRetain](engine)
}

/** Ends a hold taken by {@link retainSnapshot}. */
export function releaseSnapshot(snapshot: StrataSnapshot): void {
  snapshot[kRelease]()
}
