import { inlineLimit, type Operation } from '@strata/btree'
import { assert, ErrorCode, StrataError } from '@strata/storage'
import { batchRecordBytes, encodeBatch, encodeValue, type LoggedOperation, valueRecordBytes } from './batch.js'
import type { Database } from './database.js'
import { walValueAddress } from './wal-values.js'

/**
 * Commits one batch to the WAL and the head tree (docs/architecture.md §COW commits):
 * 1. Lay out the records: each large value in a VALUE record, named by its LSN, then the BATCH record.
 * 2. Append them to the WAL with one write (a failed write is cut back off).
 * 3. With sync, wait until they are durable: a batch is never visible before it is durable.
 * 4. Apply the batch to the head tree. The caller publishes the new root to readers.
 */
export async function commit(db: Database, ops: Operation[], sync: boolean): Promise<void> {
  if (db.wal.broken) throw new StrataError(ErrorCode.IO_ERROR, 'an earlier write failed; reopen the database', { cause: db.wal.broken })
  const seq = db.seq + 1
  const limit = inlineLimit(db.pageSize)
  const salt = db.wal.salt
  const start = db.wal.end
  let userBytes = 0
  let valueBytes = 0
  // 1. Large values first, each a VALUE record that the batch names by LSN.
  const isLarge = (op: Operation) => op.type === 'put' && op.key.length + op.value.length > limit
  const logged: LoggedOperation[] = ops.map((op) => {
    userBytes += op.key.length + (op.type === 'put' ? op.value.length : 0)
    if (op.type === 'del' || !isLarge(op)) return op
    valueBytes += valueRecordBytes(op.key.length, op.value.length)
    return { type: 'put', key: op.key, value: { address: 0, length: op.value.length } }
  })
  const buf = Buffer.allocUnsafe(valueBytes + batchRecordBytes(logged))
  let at = 0
  ops.forEach((op, i) => {
    if (op.type === 'del' || !isLarge(op)) return
    encodeValue(op.key, op.value, buf, at, salt)
    logged[i] = { type: 'put', key: op.key, value: { address: walValueAddress(start + at), length: op.value.length } }
    at += valueRecordBytes(op.key.length, op.value.length)
  })
  encodeBatch(seq, logged, db.wal.durableEnd, buf, at, salt)
  // 2. One write.
  const written = db.wal.append(buf, 'log')
  assert(written === start, 'the WAL moved between layout and append')
  if (valueBytes > 0) db.fs.io.reassign('log', 'value', valueBytes)
  db.fs.io.countUser(userBytes)
  // 3. Durable before visible.
  if (sync) await db.wal.sync()
  // 4. Apply. A failure here (a corrupt page read on the way) leaves the head unlike the WAL, so
  // the engine takes no more writes until it is reopened and recovers.
  try {
    db.apply(seq, logged)
  } catch (error) {
    db.wal.fail(error as Error)
    throw error
  }
}
