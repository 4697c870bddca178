import { BatchLayout, BatchUndo, compareKeys, isRef, type LoggedOperation, type Operation, type PendingBatch, valueRecordBytes } from '@strata/btree'
import { ErrorCode, StrataError } from '@strata/storage'
import { segmentOf } from './address.js'
import { queueCheckpointTurn, startSegment, wantsCheckpoint } from './checkpoint.js'
import type { Database } from './database.js'

/** Synced batches applied only once durable after a take-back (see `Database.batchesToApplyLate`). */
const APPLY_LATE_AFTER_TAKE_BACK = 16

/** A synced batch in the head while its sync runs (see {@link applyWhileSyncing}). */
export interface SyncingBatch {
  readonly seq: number
  /** The batch in key order. */
  readonly ops: LoggedOperation[]
  readonly undo: BatchUndo
  /** Whether readers read the head the batch is in, and so must look past it. */
  shared: boolean
  /** Whether the batch was taken back out of the head, to go in again once durable. */
  out: boolean
}

/**
 * Commits a batch in a group (docs/architecture.md §Group commit): batches written while the
 * queue is busy share one append and at most one sync. Resolves once the batch is committed.
 */
export function submit(db: Database, ops: Operation[], sync: boolean): Promise<void> {
  return db.tasks.joinWrite(ops, sync, (group) => commit(db, group))
}

/**
 * Commits a group of batches (their keys and values already copied: the caller may reuse its
 * buffers as soon as `write` returns), each its own BATCH record with its own sequence number:
 * 1. Lay out the records: for each batch in turn, each large value in a VALUE record, then the
 *    batch's BATCH record.
 * 2. Append them all with one write (a failed write is cut back off the log).
 * 3. If any batch asks for sync, wait until they are all durable: no batch is visible before it is.
 * 4. Apply the batches to the head tree as one and publish the new root to readers.
 * 5. Queue a checkpoint if the policy asks for one.
 * A failure fails the whole group: none of its batches is applied.
 */
export async function commit(db: Database, group: PendingBatch[]): Promise<void> {
  if (db.log.broken) throw new StrataError(ErrorCode.IO_ERROR, 'an earlier write failed; reopen the database', { cause: db.log.broken })
  const sync = group.some((b) => b.sync)
  // 1. Large values go out of line, each a VALUE record before the batch that names its address.
  const layouts = group.map((b) => new BatchLayout(b.ops, db.pageSize))
  let total = 0
  let userBytes = 0
  let valueBytes = 0
  for (const layout of layouts) {
    total += layout.bytes
    userBytes += layout.userBytes
    valueBytes += layout.valueBytes
  }
  // The log after a checkpoint starts a segment of its own.
  if (db.logAfterCheckpoint) {
    startSegment(db)
    db.logAfterCheckpoint = false
  }
  const start = db.log.prepare(total)
  const durableThrough = db.log.durableEnd
  const firstSeq = db.seq + 1
  const parts: Buffer[] = []
  const logged: LoggedOperation[] = []
  let at: number = start
  layouts.forEach((layout, i) => {
    const base = at
    const encoded = layout.encode(firstSeq + i, durableThrough, (offset) => base + offset)
    parts.push(encoded.buf)
    for (const op of encoded.logged) logged.push(op)
    at += layout.bytes
  })
  // 2. One write.
  const written = db.log.append(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, total), 'log', start)
  if (written !== start) throw new Error('strata: invariant broken: the log moved between prepare and append')
  if (valueBytes > 0) {
    db.fs.io.reassign('log', 'value', valueBytes)
    db.valueSegments.add(segmentOf(start))
    db.noteBorn(start, 0)
  }
  db.fs.io.countUser(userBytes)
  // 3–4. Durable before visible, then applied and published. A synced group of inline values
  // goes into the head while its sync runs, hidden from readers until the sync ends. The group's
  // batches go in as one, at the last one's sequence number: no reader sees between them.
  const seq = firstSeq + group.length - 1
  if (sync && valueBytes === 0 && db.batchesToApplyLate === 0) {
    await applyWhileSyncing(db, seq, logged)
  } else {
    if (sync && valueBytes === 0) db.batchesToApplyLate--
    if (sync) await db.log.sync()
    applyOrFail(db, () => apply(db, seq, logged))
  }
  db.logSinceCheckpoint += total
  // 5. Checkpoint when the log since the last one is large against the pages it dirtied.
  if (!db.checkpointQueued && wantsCheckpoint(db)) {
    db.checkpointQueued = true
    queueCheckpointTurn(db)
  }
}

/**
 * Runs `apply`. A failure (a corrupt page read on the way) leaves the head unlike the log, so
 * the engine takes no more writes until it is reopened and recovers.
 */
function applyOrFail(db: Database, apply: () => void): void {
  try {
    apply()
  } catch (error) {
    db.log.fail(error as Error)
    throw error
  }
}

/** Applies a logged batch to the head tree and makes it the visible state (commit and replay alike). */
export function apply(db: Database, seq: number, ops: LoggedOperation[]): void {
  // The copies `write` took go in, not the caller's buffers; the tree copies each entry again.
  applyOps(db, seq, ops.length > 16 ? inKeyOrder(ops) : ops)
  db.seq = seq
  db.publish(false)
}

/**
 * Applies the operations `each` yields, in key order (the last write to a key last), as one
 * state at `seq`: a replayed run's (docs/architecture.md §Replay).
 */
export function applyRun(db: Database, seq: number, each: (apply: (op: LoggedOperation) => void) => void): void {
  db.tree.birth = seq
  each((op) => applyOperation(db, op))
  db.seq = seq
  db.publish(false)
}

/** Applies operations to the head, nodes made born at `birth`; `undo` notes what each key held. */
function applyOps(db: Database, birth: number, ops: LoggedOperation[], undo?: BatchUndo): void {
  db.tree.birth = birth
  for (const op of ops) {
    applyOperation(db, op)
    undo?.note(op.key)
  }
}

function applyOperation(db: Database, op: LoggedOperation): void {
  if (op.type === 'del') {
    db.tree.del(op.key)
  } else {
    if (isRef(op.value)) db.space.use(op.value.address, valueRecordBytes(op.key.length, op.value.length))
    db.tree.put(op.key, op.value)
  }
}

/**
 * Steps 3 and 4 of a synced batch (of inline values only), with the sync and the apply at once:
 * the sync waits on the device while the apply works in memory. Readers still see the batch
 * only once it is durable:
 * - if the visible state is frozen, readers read it, not the head the batch goes into;
 * - else `get` looks past the batch (what its keys held before), and a reader that keeps a
 *   root meanwhile (a snapshot, a cursor) first takes the batch back out of the head
 *   ({@link takeBackSyncing}); it goes in again once durable.
 * If the sync fails, the batch is taken back out before the error reaches the caller.
 */
async function applyWhileSyncing(db: Database, seq: number, logged: LoggedOperation[]): Promise<void> {
  const durable = db.log.sync()
  const shared = !db.visibleFrozen
  const syncing: SyncingBatch = { seq, ops: inKeyOrder(logged), undo: new BatchUndo(db.tree), shared, out: false }
  db.syncing = syncing
  try {
    // A shared head's nodes are born at the visible state's sequence number: if a reader keeps
    // the head once the batch is out again, that state reaches them.
    applyOps(db, shared ? db.seq : seq, syncing.ops, syncing.undo)
    // Readers of a shared head read from its root, which a split or a collapse may have replaced.
    if (shared) db.visible = db.tree.root
  } catch (error) {
    durable.catch(() => undefined)
    failSyncing(db, syncing, error as Error)
    throw error
  }
  try {
    await durable
  } catch (error) {
    failSyncing(db, syncing, error as Error)
    throw error
  }
  db.syncing = undefined
  if (syncing.out) {
    applyOrFail(db, () => apply(db, seq, syncing.ops))
    return
  }
  db.seq = seq
  db.publish(false)
}

/** Takes the syncing batch back out of the head, so that the head is the visible state again. */
export function takeBackSyncing(db: Database): void {
  const syncing = db.syncing
  if (!syncing || syncing.out) return
  db.tree.birth = db.seq
  syncing.undo.restore((ref) => db.space.reuse(ref.address))
  // A frozen visible root stays as it is; readers of a shared head read from its root again.
  if (syncing.shared) db.visible = db.tree.root
  syncing.out = true
  syncing.shared = false
  db.batchesToApplyLate = APPLY_LATE_AFTER_TAKE_BACK
}

/** The syncing batch's apply or sync failed: out of the head with it, and no more writes. */
function failSyncing(db: Database, syncing: SyncingBatch, error: Error): void {
  db.log.fail(error)
  try {
    takeBackSyncing(db)
  } finally {
    db.syncing = undefined
  }
}

/**
 * A batch in key order (stable, so the last write to a key still wins): consecutive operations
 * find their path in cache.
 */
function inKeyOrder(ops: LoggedOperation[]): LoggedOperation[] {
  return ops.slice().sort((a, b) => compareKeys(a.key, b.key))
}
