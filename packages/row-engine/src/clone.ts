import { beginClone, type CloneResult, endClone } from '@strata/btree'
import { ErrorCode, type FileSystem, RECORD_HEADER_BYTES, StrataError, syncFiles } from '@strata/storage'
import { LAST_SEGMENT, logAddress, offsetOf, segmentOf } from './address.js'
import { checkpoint } from './checkpoint.js'
import { removeEmptySegments } from './cleaning.js'
import type { Database } from './database.js'
import { MetaFile } from './meta.js'
import { deleteNamed, restoreNamed } from './named.js'
import { openDatabase } from './recovery.js'
import { segmentName } from './segment-log.js'

/** What {@link cloneDatabase} is asked for, every option decided. */
export interface CloneRequest {
  /** The named snapshot whose state the clone starts at; undefined for the head. */
  name: string | undefined
  /** Keep the source's named snapshots in the clone. */
  snapshots: boolean
  /** Share sealed segments by hard link where possible (else copy them). */
  link: boolean
}

/**
 * Makes a new database in the empty folder `target` whose state is that of `request.name` in
 * `db` (docs/format.md §Clones); runs on `db`'s task queue, so nothing else changes `db` meanwhile.
 * `target` holds the clone marker throughout (clone-marker.ts in @strata/btree), so an open
 * refuses it until the last step is durable:
 * 1. Checkpoint `db`: the head and every named snapshot are whole in the log as pages, and META
 *    names the checkpoint record C, in the active segment S.
 * 2. Seal S: `db` starts a new segment, so it never appends to S again (unless S is the last
 *    segment number, or something follows C in S; then S is copied at step 3 instead).
 * 3. Put every sealed segment up to S into `target`, by hard link (or copy). Neither database
 *    ever writes them in place again: recovery cuts the log only from the segment its checkpoint
 *    is in, and appends go to the newest segment; and the clone gets an empty segment S + 1 of its
 *    own, so its recovery, which ends the log there, appends there and never to S. (Where S is not
 *    sealed, S up to the end of C is copied instead.) Sync; write the clone's META, naming C.
 *    `target` now holds `db`'s state at C, with its named snapshots.
 * 4. Open the clone; restore it to `name`'s state and delete the snapshots it is not to keep,
 *    each durably as on any database; then a checkpoint of its own in a fresh segment, after
 *    which the segments the clone does not use are removed from `target` (their links only).
 */
export async function cloneDatabase(db: Database, target: FileSystem, request: CloneRequest): Promise<CloneResult> {
  const { name } = request
  db.assertWritable()
  if (name !== undefined && !db.named.has(name)) throw new StrataError(ErrorCode.SNAPSHOT_NOT_FOUND, `no snapshot named ${JSON.stringify(name)}`)
  if (!db.fs.share) throw new StrataError(ErrorCode.NOT_SUPPORTED, `${db.fs.location} cannot share its files with a clone`)
  if (target.list().length > 0) throw new StrataError(ErrorCode.EXISTS, `${target.location} is not empty: a clone is made in an empty folder`)
  const writtenBefore = target.io.report().totalWritten
  const result: CloneResult = { linkedFiles: 0, copiedFiles: 0, bytesWritten: 0 }
  await beginClone(target)
  // 1. The state to clone, whole in the log.
  await checkpoint(db, 'meta')
  db.assertWritable()
  const at = db.checkpointAt
  const seq = db.meta.current.checkpointSeq
  const active = segmentOf(at)
  const end = offsetOf(at) + RECORD_HEADER_BYTES + db.log.readRecord(at, 'meta').payload.length
  // 2. Seal S when C ends it.
  const sealed = db.log.end === logAddress(active, end) && active < LAST_SEGMENT
  if (sealed) {
    db.log.roll()
    // The new segment's name durable before S is shared: `db`'s own recovery then ends its log
    // there, and never appends to S again either.
    await db.log.sync()
    db.assertWritable()
  }
  // 3. From here to the last share nothing awaits, so no segment of `db` goes meanwhile.
  const copied: string[] = []
  for (const segment of db.log.segments()) {
    if (segment > active || (segment === active && !sealed)) continue
    const shared = db.log.share(segment, target, { link: request.link })
    if (shared.how === 'linked') result.linkedFiles++
    else copied.push(segmentName(segment))
    result.bytesWritten += shared.bytesWritten
  }
  // The clone's own segment after the shared ones: empty where S is shared, else S up to C's end.
  const own = target.open(segmentName(sealed ? active + 1 : active), { create: true })
  try {
    if (!sealed) {
      own.write(0, db.log.read(logAddress(active, 0), end, 'meta'), 'meta')
      await own.sync()
    }
  } finally {
    own.close()
  }
  result.copiedFiles = copied.length + (sealed ? 0 : 1)
  await syncFiles(target, copied)
  const meta = await MetaFile.create(target, { generation: 0, pageSize: db.pageSize, segmentBytes: db.meta.current.segmentBytes, checkpoint: at, checkpointSeq: seq })
  meta.close()
  // 4. The clone's own state.
  target.lock()
  try {
    const clone = await openDatabase({ fs: target, createIfMissing: false }, db.policy)
    try {
      if (name !== undefined) await restoreNamed(clone, name)
      if (!request.snapshots) for (const other of [...clone.named.keys()]) await deleteNamed(clone, other)
      clone.log.roll()
      await checkpoint(clone, 'meta')
      removeEmptySegments(clone)
      await clone.log.sync()
      await target.syncDirectory()
    } finally {
      await clone.checkpointDone
      clone.log.close()
      clone.meta.close()
    }
  } finally {
    target.unlock()
  }
  await endClone(target)
  result.bytesWritten += target.io.report().totalWritten - writtenBefore
  return result
}
