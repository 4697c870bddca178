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
 * a tree is a few levels deep, so a get nears it only when its cache lets pages go between reads.
 */
const ASYNC_PAGE_READS = 16

/**
 * {@link get} of the visible state, reading the pages it lacks without blocking the event loop
 * (docs/architecture.md §The page cache): a path all in memory answers at once; else the call
 * holds the state it began on (an implicit snapshot, so it answers as of the call, as `get` does)
 * and reads each missing page in the OS's thread pool, then looks again. A read at a snapshot,
 * and a value stored outside its leaf, are read at once. `db.readsInFlight` holds the call until it
 * ends, so a close lets it finish.
 */
export function getAsync(db: Database, key: Uint8Array, at: EngineSnapshot | undefined): Promise<Buffer | undefined> {
  if (at) return Promise.resolve(get(db, key, at))
  // A batch whose sync is still running is in the head: a key it wrote reads as before it.
  const syncing = db.syncing
  if (syncing?.shared && syncing.undo.has(key)) return Promise.resolve(get(db, key, undefined))
  const now = walkInMemory(db, db.visible, key, new Map())
  if (now.found) return Promise.resolve(valueOf(db, now.value))
  const call = readPath(db, key)
  db.readsInFlight.add(call)
  return call.finally(() => db.readsInFlight.delete(call))
}

/** The path to `key` through the nodes in memory, counting a cache hit per page the cache gave; `read` holds pages this call read itself. */
function walkInMemory(db: Database, root: Node, key: Uint8Array, read: Map<PageAddress, Node>) {
  const hits: PageAddress[] = []
  const path = lookupInMemory(root, key, (address) => {
    const own = read.get(address)
    if (own) return own
    const cached = db.cache.peek(address)
    if (cached) hits.push(address)
    return cached
  })
  // A walk that stops at a page to read walks again later: only a finished walk counts its hits.
  if (path.found) for (const address of hits) db.cache.countHit(address)
  return path
}

/** The slow path of {@link getAsync}: the state held, the pages it lacks read off the thread one by one. */
async function readPath(db: Database, key: Uint8Array): Promise<Buffer | undefined> {
  const held = snapshot(db)
  // The pages this call read, kept by it: the cache may let them go before it looks again.
  const read = new Map<PageAddress, Node>()
  try {
    let path = walkInMemory(db, held.root, key, read)
    for (let reads = 0; reads < ASYNC_PAGE_READS && !path.found; reads++) {
      read.set(path.missing, await db.readPageAsync(path.missing))
      path = walkInMemory(db, held.root, key, read)
    }
    return path.found ? valueOf(db, path.value) : get(db, key, held)
  } finally {
    held.release()
  }
}

/**
 * Reads the pages of the head's path to `key` that are not in memory into the page cache, off the
 * event loop, so that work on the write queue (cleaning) finds them there instead of reading them
 * at once. The path may change meanwhile; what was read stays useful or is evicted like any page.
 */
export async function readPathAhead(db: Database, key: Uint8Array): Promise<void> {
  const read = new Map<PageAddress, Node>()
  let path = walkInMemory(db, db.tree.root, key, read)
  for (let reads = 0; reads < ASYNC_PAGE_READS && !path.found && !db.closed; reads++) {
    read.set(path.missing, await db.readPageAsync(path.missing))
    path = walkInMemory(db, db.tree.root, key, read)
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
export function snapshot(db: Database): RowSnapshot {
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
