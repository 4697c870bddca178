import { BatchLayout, type LoggedOperation, type PendingBatch } from '@strata/btree'
import { assert, ErrorCode, StrataError } from '@strata/storage'
import type { Database } from './database.js'
import { walValueAddress } from './wal-values.js'

/**
 * Commits a group of batches to the WAL and the head tree (docs/architecture.md §COW commits and
 * §Group commit), each its own BATCH record with its own sequence number:
 * 1. Lay out the records: for each batch in turn, each large value in a VALUE record, named by its
 *    LSN, then the BATCH record.
 * 2. Append them all to the WAL with one write (a failed write is cut back off).
 * 3. If any batch asks for sync, wait until they are all durable: no batch is visible before it is.
 * 4. Apply the batches to the head tree as one. The caller publishes the new root to readers.
 * A failure fails the whole group: none of its batches is applied.
 */
export async function commit(db: Database, group: PendingBatch[]): Promise<void> {
  if (db.wal.broken) throw new StrataError(ErrorCode.IO_ERROR, 'an earlier write failed; reopen the database', { cause: db.wal.broken })
  const firstSeq = db.seq + 1
  const start = db.wal.end
  const durableThrough = db.wal.durableEnd
  // 1. Large values first, each a VALUE record that the batch names by LSN.
  const parts: Buffer[] = []
  const logged: LoggedOperation[] = []
  let at = start
  let userBytes = 0
  let valueBytes = 0
  group.forEach((batch, i) => {
    const base = at
    const layout = new BatchLayout(batch.ops, db.pageSize, db.wal.salt)
    const encoded = layout.encode(firstSeq + i, durableThrough, (offset) => walValueAddress(base + offset))
    parts.push(encoded.buf)
    for (const op of encoded.logged) logged.push(op)
    at += layout.bytes
    userBytes += layout.userBytes
    valueBytes += layout.valueBytes
  })
  // 2. One write.
  const written = db.wal.append(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, at - start), 'log')
  assert(written === start, 'the WAL moved between layout and append')
  if (valueBytes > 0) db.fs.io.reassign('log', 'value', valueBytes)
  db.fs.io.countUser(userBytes)
  // 3. Durable before visible.
  if (group.some((b) => b.sync)) await db.wal.sync()
  // 4. Apply, as one at the last batch's sequence number. A failure here (a corrupt page read on
  // the way) leaves the head unlike the WAL, so the engine takes no more writes until it is
  // reopened and recovers.
  try {
    db.apply(firstSeq + group.length - 1, logged)
  } catch (error) {
    db.wal.fail(error as Error)
    throw error
  }
}
