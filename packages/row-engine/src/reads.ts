import { type Change, type DiffCost, diffTrees, engineCursor, type EngineCursor, type EngineSnapshot, isRef, lookup, lookupInMemory, type Node, type PageAddress, type Range, type StoredValue } from '@strata/btree'
import { ErrorCode, StrataError } from '@strata/storage'
import { removeEmptySegments } from './cleaning.js'
import { takeBackSyncing } from './commit.js'
import type { Database } from './database.js'

/** A snapshot: a pinned root and its sequence number, unpinned on release. */
export class RowSnapshot implements EngineSnapshot {
  #released = false

  constructor(
    readonly seq: number,
    readonly root: Node,
    readonly owner: Database,
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

/** The value of `key` at `at` (undefined: the visible state). */
export function get(db: Database, key: Uint8Array, at: EngineSnapshot | undefined): Buffer | undefined {
  const syncing = db.syncing
  const value = !at && syncing?.shared && syncing.undo.has(key) ? syncing.undo.before(key) : lookup(db, rootFor(db, at), key)
  return valueOf(db, value)
}

/**
 * Pages a {@link getAsync} reads without blocking before it reads the rest of its path at once:
 * a tree is a few levels deep, so only a get racing many writes that reshape it gets near.
 */
const ASYNC_PAGE_READS = 16

/**
 * {@link get}, reading the pages it needs without blocking the event loop (docs/architecture.md
 * §The page cache): a path all in memory answers at once; else the call holds the state it began
 * on (an implicit snapshot, so it answers as of the call, as `get` does) and reads each missing
 * page in the OS's thread pool, then looks again. A value stored outside its leaf is still read
 * at once.
 */
export async function getAsync(db: Database, key: Uint8Array, at: EngineSnapshot | undefined): Promise<Buffer | undefined> {
  // A batch whose sync is still running is taken out of the head's reads by `get`.
  if (!at && db.syncing?.shared) return get(db, key, at)
  const now = lookupInMemory(rootFor(db, at), key, (address) => db.cache.peek(address))
  if (now.found) return valueOf(db, now.value)
  const held = at ?? snapshot(db)
  // The pages this call read, kept by it: the cache may let them go before it looks again.
  const read = new Map<PageAddress, Node>()
  const peek = (address: PageAddress) => read.get(address) ?? db.cache.peek(address)
  try {
    let missing = lookupInMemory(rootFor(db, held), key, peek)
    for (let reads = 0; reads < ASYNC_PAGE_READS && !missing.found; reads++) {
      const address = missing.missing
      try {
        read.set(address, await db.readPageAsync(address))
      } finally {
        db.assertOpen()
      }
      missing = lookupInMemory(rootFor(db, held), key, peek)
    }
    return missing.found ? valueOf(db, missing.value) : get(db, key, held)
  } finally {
    if (held !== at) held.release()
  }
}

/** A value as a get returns it: read from the log if stored outside its leaf. */
function valueOf(db: Database, value: StoredValue | undefined): Buffer | undefined {
  if (value === undefined || !isRef(value)) return value
  return db.readValue(value)
}

/** A cursor over `range` at `at`; it pins the state it reads until it closes. */
export function iterate(db: Database, range: Range, at: EngineSnapshot | undefined): EngineCursor {
  const root = keptRootFor(db, at)
  // A cursor pins the state it reads (an implicit snapshot), so that state's pages stay until
  // the cursor closes, even if an explicit snapshot it reads is released first.
  const seq = at ? at.seq : db.seq
  db.space.pin(seq)
  return engineCursor(db, root, range, { assertOpen: () => db.assertOpen(), release: () => unpin(db, seq) })
}

/** A snapshot of the visible state. */
export function snapshot(db: Database): EngineSnapshot {
  db.space.pin(db.seq)
  return new RowSnapshot(db.seq, keptRoot(db), db, (seq) => unpin(db, seq))
}

/** The visible state, frozen: for a reader that keeps it past the call. */
export function keptRoot(db: Database): Node {
  // The head may hold a batch whose sync is still running: the reader must not keep that.
  if (db.syncing?.shared) takeBackSyncing(db)
  // Freezing the tree's current generation freezes every node the visible root reaches.
  if (!db.visibleFrozen) {
    db.tree.freeze()
    db.visibleFrozen = true
  }
  return db.visible
}

/** The root a read at `at` starts from, for a read done within the call (a `get`). */
function rootFor(db: Database, at: EngineSnapshot | undefined): Node {
  if (!at) return db.visible
  if (!(at instanceof RowSnapshot) || at.owner !== db) throw new TypeError('snapshot does not belong to this engine')
  if (at.released) throw new StrataError(ErrorCode.SNAPSHOT_NOT_OPEN, 'snapshot was released')
  return at.root
}

/** The root a read at `at` starts from, for a read that keeps it past the call (a cursor, a diff). */
function keptRootFor(db: Database, at: EngineSnapshot | undefined): Node {
  return at ? rootFor(db, at) : keptRoot(db)
}

/** Lets go of a pin at `seq`; the segments only it kept go. */
export function unpin(db: Database, seq: number): void {
  if (db.space.unpin(seq) && !db.closed && !db.readOnly) removeEmptySegments(db)
}

/** The changes from `from` to `to` (undefined: the visible state), in key order. */
export function diff(db: Database, from: EngineSnapshot | undefined, to: EngineSnapshot | undefined, cost?: DiffCost): Iterable<Change> {
  for (const at of [from, to]) if (at) rootFor(db, at)
  return pinnedDiff(db, from, to, cost)
}

/**
 * A diff's walk. Like a cursor it pins the states it reads, from its first step until it ends
 * or is abandoned (`return()`, as a `for..of` that breaks calls), so their pages stay even
 * through compactions and if a snapshot it reads is released first.
 */
function* pinnedDiff(db: Database, from: EngineSnapshot | undefined, to: EngineSnapshot | undefined, cost?: DiffCost): Generator<Change> {
  const a = { source: db, root: keptRootFor(db, from), seq: from ? from.seq : db.seq }
  const b = { source: db, root: keptRootFor(db, to), seq: to ? to.seq : db.seq }
  db.space.pin(a.seq)
  db.space.pin(b.seq)
  try {
    yield* diffTrees(a, b, true, cost)
  } finally {
    unpin(db, a.seq)
    unpin(db, b.seq)
  }
}
