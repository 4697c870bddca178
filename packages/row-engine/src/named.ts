import { type EngineSnapshot, type NamedSnapshotInfo, NO_ADDRESS, type Node, type PageAddress, valueRecordBytes } from '@strata/btree'
import { ErrorCode, frameRecord, RECORD_HEADER_BYTES, StrataError } from '@strata/storage'
import { abandonFrozen } from './checkpoint.js'
import type { StoredSnapshot } from './checkpoint-record.js'
import { removeEmptySegments } from './cleaning.js'
import type { Database } from './database.js'
import { keptRoot, RowSnapshot, unpin } from './reads.js'
import { RecordType } from './record.js'
import { encodeDropRecord, encodeRestoreRecord, encodeSnapshotRecord } from './snapshot-records.js'
import { exclusiveBytes } from './space-policy.js'
import { treeDifference } from './tree-difference.js'

/** A named snapshot in memory; `node` is its root once read (recovery leaves it to first use). */
export type NamedEntry = StoredSnapshot & { node: Node | undefined }

/** Names the visible state: a SNAPSHOT record, synced, then the name pins the state. */
export async function createNamed(db: Database, name: string, meta: Buffer): Promise<NamedSnapshotInfo> {
  db.assertWritable()
  if (db.named.has(name)) throw new StrataError(ErrorCode.SNAPSHOT_EXISTS, `a snapshot named ${JSON.stringify(name)} already exists`)
  const createdAt = Date.now()
  db.log.append(frameRecord(RecordType.SNAPSHOT, encodeSnapshotRecord({ seq: db.seq, createdAt, name, meta })), 'meta')
  await db.log.sync()
  nameSnapshot(db, name, createdAt, meta)
  return snapshotInfo(db, name)
}

/** Deletes a named snapshot: a DROP record, synced; the segments only it kept go. */
export async function deleteNamed(db: Database, name: string): Promise<void> {
  db.assertWritable()
  namedEntry(db, name)
  db.log.append(frameRecord(RecordType.DROP, encodeDropRecord(name)), 'meta')
  await db.log.sync()
  dropSnapshot(db, name)
  removeEmptySegments(db)
}

/** Makes the head the named snapshot's state: a RESTORE record, synced, then {@link restoreTo}. */
export async function restoreNamed(db: Database, name: string): Promise<void> {
  db.assertWritable()
  namedEntry(db, name)
  // The space a restore moves must not be in a checkpoint still on its way to the disk, nor in
  // one under way beside the writes.
  await db.checkpointDone
  abandonFrozen(db)
  const seq = db.seq + 1
  db.log.append(frameRecord(RecordType.RESTORE, encodeRestoreRecord(seq, name)), 'meta')
  await db.log.sync()
  restoreTo(db, name, seq)
}

/** A snapshot of the named snapshot's state, pinned until released. */
export function openNamed(db: Database, name: string): EngineSnapshot {
  const entry = namedEntry(db, name)
  db.space.pin(entry.seq)
  return new RowSnapshot(entry.seq, namedRoot(db, entry), db, (seq) => unpin(db, seq))
}

/**
 * A named snapshot's root, read on first use: recovery does not read it, since a later DROP in
 * the log may have deleted the snapshot and its pages with it.
 */
export function namedRoot(db: Database, entry: NamedEntry): Node {
  entry.node ??= db.cachedNode(entry.root as PageAddress)
  return entry.node
}

function namedEntry(db: Database, name: string): NamedEntry {
  const entry = db.named.get(name)
  if (!entry) throw new StrataError(ErrorCode.SNAPSHOT_NOT_FOUND, `no snapshot named ${JSON.stringify(name)}`)
  return entry
}

/** What `listSnapshots` tells of the named snapshot `name`. */
export function snapshotInfo(db: Database, name: string): NamedSnapshotInfo {
  const { seq, createdAt, meta } = namedEntry(db, name)
  // Another name for the same state keeps all it keeps: deleting this one alone frees nothing.
  const twin = [...db.named.values()].some((e) => e.seq === seq && e.name !== name)
  return { name, seq, createdAt, meta, exclusiveBytes: twin ? 0 : exclusiveBytes(db, seq) }
}

/** Registers a named snapshot of the visible state (on create, and on replay of its record). */
export function nameSnapshot(db: Database, name: string, createdAt: number, meta: Buffer): void {
  db.named.set(name, { name, seq: db.seq, createdAt, meta, root: NO_ADDRESS, node: keptRoot(db) })
  db.space.pin(db.seq)
}

/** Forgets a named snapshot and its pin (on delete, and on replay of its DROP record). */
export function dropSnapshot(db: Database, name: string): void {
  const entry = db.named.get(name)
  if (!entry) return
  db.named.delete(name)
  db.space.unpin(entry.seq)
}

/**
 * The head becomes snapshot `name`'s state at sequence `seq`: what only the old head used is
 * freed, and what only the snapshot used returns to the head.
 */
export function restoreTo(db: Database, name: string, seq: number): void {
  const entry = namedEntry(db, name)
  const root = namedRoot(db, entry)
  const difference = treeDifference(db, db.tree.root, root)
  for (const page of difference.pagesOnlyInA) db.space.free({ address: page.address, bytes: RECORD_HEADER_BYTES + page.bytes, born: page.born, seq })
  for (const value of difference.valuesOnlyInA) db.space.free({ address: value.ref.address, bytes: valueRecordBytes(value.keyLength, value.ref.length), born: 0, seq })
  for (const page of difference.pagesOnlyInB) db.space.reuse(page.address)
  for (const value of difference.valuesOnlyInB) db.space.reuse(value.ref.address)
  db.tree.replaceRoot(root)
  db.tree.dataBytes += difference.walkedDataBytesB - difference.walkedDataBytesA
  db.seq = seq
  db.publish(true)
}
