import type { EngineSnapshot, NamedSnapshotInfo } from '@strata/btree'
import { ErrorCode, type Purpose, StrataError } from '@strata/storage'
import type { NamedRecord } from './catalogue.js'
import type { CheckpointChanges } from './checkpoint.js'
import type { Database } from './database.js'
import { pageNumber } from './page-file.js'
import type { Reads } from './reads.js'
import { planRestore, type RestorePlan } from './restore.js'
import type { CowSnapshot } from './snapshots.js'

/** What the named snapshot procedures use of the engine; each runs on the engine's serial queue. */
export interface NamedHost {
  readonly db: Database
  readonly reads: Reads
  /** Runs a checkpoint (nothing, if the WAL has failed: `assertWritable` tells). */
  checkpoint(purpose: Purpose, force: boolean, changes?: CheckpointChanges): Promise<void>
  /** Throws STRATA_IO_ERROR if an earlier write failed. */
  assertWritable(): void
  /** Runs when a snapshot is released and no reader holds it. */
  retire(snapshot: CowSnapshot): void
}

/**
 * A caller's handle on a named snapshot (`openSnapshot`): it holds the snapshot, so the snapshot's
 * copies stay while the handle reads, even if the snapshot is deleted meanwhile.
 */
export class NamedHandle implements EngineSnapshot {
  readonly snapshot: CowSnapshot
  #released = false

  constructor(snapshot: CowSnapshot) {
    this.snapshot = snapshot
    snapshot.hold()
  }

  get seq(): number {
    return this.snapshot.seq
  }

  get released(): boolean {
    return this.#released
  }

  release(): void {
    if (this.#released) return
    this.#released = true
    this.snapshot.unhold()
  }
}

/** The live named snapshot called `name`; STRATA_SNAPSHOT_NOT_FOUND if the catalogue has none. */
export function namedSnapshot(db: Database, name: string): CowSnapshot {
  for (const s of db.snapshots.named()) if (s.named?.name === name) return s
  throw new StrataError(ErrorCode.SNAPSHOT_NOT_FOUND, `no snapshot named ${JSON.stringify(name)}`)
}

/** A named snapshot as `listSnapshots` shows it. */
export function snapshotInfo(db: Database, snapshot: CowSnapshot): NamedSnapshotInfo {
  const record = snapshot.named
  if (!record) throw new StrataError(ErrorCode.SNAPSHOT_NOT_FOUND, 'the snapshot was deleted')
  return { name: record.name, seq: record.seq, createdAt: record.createdAt, meta: record.meta, exclusiveBytes: db.store.exclusiveBytes(snapshot) }
}

/**
 * Registers the catalogue's named snapshots at open, oldest first, at epoch 0 (they may read any
 * page content from before this session), takes back their copies from the store, and reads
 * each root. `retire` runs when one is deleted and no reader holds it.
 */
export function registerNamed(db: Database, retire: (snapshot: CowSnapshot) => void): void {
  const records = [...db.catalogue.records.values()].sort((a, b) => a.seq - b.seq || a.id - b.id)
  const snapshots = records.map((record) => {
    const snapshot = db.snapshots.create({ id: record.id, seq: record.seq, epoch: 0, implicit: false, named: record }, retire)
    db.store.adopt(snapshot, record.list.entries())
    snapshot.source = db.sourceFor(snapshot)
    return snapshot
  })
  db.store.settle()
  snapshots.forEach((snapshot, i) => {
    snapshot.root = snapshot.source.loadNode(pageNumber((records[i] as NamedRecord).root))
  })
}

/**
 * Names the visible state (the head: the queue runs nothing else meanwhile), durably:
 * 1. One checkpoint writes the head in place and the catalogue with the new record, whose root is
 *    the spilled root: the snapshot's state is exactly pages.db as that checkpoint leaves it.
 * 2. The snapshot lives from then on, at that checkpoint's epoch: each page it uses is copied to
 *    its store before its first overwrite.
 */
export async function createNamed(host: NamedHost, name: string, meta: Buffer): Promise<NamedSnapshotInfo> {
  const { db } = host
  host.assertWritable()
  if (db.catalogue.records.has(name)) throw new StrataError(ErrorCode.SNAPSHOT_EXISTS, `a snapshot named ${JSON.stringify(name)} already exists`)
  const id = db.snapshots.reserveId()
  // 1. The checkpoint.
  try {
    await host.checkpoint('page', true, { create: { name, id, createdAt: Date.now(), meta: Buffer.from(meta) } })
    host.assertWritable()
  } catch (error) {
    // Not created as far as readers know (after a reopen, it may or may not be).
    db.catalogue.records.delete(name)
    throw error
  }
  // 2. The snapshot.
  const record = db.catalogue.records.get(name)
  if (!record) throw new Error('strata: invariant broken: a created snapshot is not in the catalogue')
  const snapshot = db.snapshots.create({ id, seq: record.seq, epoch: db.epoch, root: db.tree.root, implicit: false, named: record }, (s) => host.retire(s))
  snapshot.source = db.sourceFor(snapshot)
  return snapshotInfo(db, snapshot)
}

/**
 * Deletes a named snapshot: a checkpoint writes the catalogue without it (its copy list's pages are
 * freed); then the catalogue's hold on it goes, and its copies with it once no reader holds it.
 */
export async function deleteNamed(host: NamedHost, name: string): Promise<void> {
  const { db } = host
  host.assertWritable()
  const snapshot = namedSnapshot(db, name)
  const record = snapshot.named as NamedRecord
  db.catalogue.drop(name)
  snapshot.named = undefined
  try {
    await host.checkpoint('page', true)
    host.assertWritable()
  } catch (error) {
    // Not deleted as far as readers know (after a reopen, it may or may not be).
    db.catalogue.undrop(record)
    snapshot.named = record
    throw error
  }
  snapshot.release()
}

/**
 * Makes the head a named snapshot's state, as one durable commit at the next sequence number:
 * 1. Checkpoint the head, so that what differs from the snapshot is what pages.db holds.
 * 2. Plan the restore (restore.ts): the head tree becomes the snapshot's, with the nodes the head
 *    had overwritten since as dirty copies. Readers, and snapshots taken meanwhile, still see the
 *    old state, at the epoch before the restore's: its pages are only freed, never overwritten.
 * 3. One checkpoint writes the dirty nodes on new pages and names the restored root; then readers
 *    see it. If it fails, readers keep the old state.
 */
export async function restoreNamed(host: NamedHost, name: string): Promise<void> {
  const { db, reads } = host
  host.assertWritable()
  const snapshot = namedSnapshot(db, name)
  // 1. The head on pages.db.
  await host.checkpoint('page', false)
  host.assertWritable()
  // 2. The plan.
  let plan: RestorePlan
  try {
    plan = planRestore(db, snapshot)
  } catch (error) {
    // The page accounting may be half changed: no more writes until a reopen.
    db.wal.fail(error as Error)
    throw error
  }
  reads.restoringFrom = db.epoch
  try {
    // 3. Durable, then visible.
    await host.checkpoint('page', true, { restore: plan })
    host.assertWritable()
    reads.visible = db.tree.freeze()
  } catch (error) {
    db.tree.replaceRoot(reads.visible)
    db.seq--
    throw error
  } finally {
    reads.restoringFrom = undefined
  }
}
