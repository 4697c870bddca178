import { BatchLayout, type Operation } from '@strata/btree'
import { assert, ErrorCode, StrataError } from '@strata/storage'
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
  const start = db.wal.end
  // 1. Large values first, each a VALUE record that the batch names by LSN.
  const layout = new BatchLayout(ops, db.pageSize, db.wal.salt)
  const { buf, logged } = layout.encode(seq, db.wal.durableEnd, (offset) => walValueAddress(start + offset))
  // 2. One write.
  const written = db.wal.append(buf, 'log')
  assert(written === start, 'the WAL moved between layout and append')
  if (layout.valueBytes > 0) db.fs.io.reassign('log', 'value', layout.valueBytes)
  db.fs.io.countUser(layout.userBytes)
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
