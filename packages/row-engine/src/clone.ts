import { beginClone, type CloneResult, endClone } from '@strata/btree'
import { ErrorCode, type FileSystem, frameRecord, RECORD_HEADER_BYTES, StrataError, syncFiles, writeU64 } from '@strata/storage'
import { LAST_SEGMENT, logAddress, offsetOf, segmentOf } from './address.js'
import { checkpoint } from './checkpoint.js'
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint-record.js'
import { removeEmptySegments } from './cleaning.js'
import type { Database } from './database.js'
import { MetaFile } from './meta.js'
import { deleteNamed, restoreNamed } from './named.js'
import { openDatabase } from './recovery.js'
import { RecordType } from './record.js'
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
 * 3. Put the sealed segments up to S that the clone needs into `target`, by hard link (or copy):
 *    all of them if it keeps the named snapshots, else (a clone of the head) those C's space
 *    table says the head uses. Neither database ever writes them in place again: recovery cuts
 *    the log only from the segment its replay starts in, and appends go to the newest segment;
 *    and the clone gets a segment S + 1 of its own, so its recovery, which ends the log there,
 *    appends there and never to S. (Where S is not sealed, S up to the end of C is copied
 *    instead, as the clone's own.)
 * 4. The clone's own state, then its META; sync:
 *    - of the head, keeping the named snapshots: C itself; META names it;
 *    - of the head alone: a CHECKPOINT record C' in the clone's own segment, C with no named
 *      snapshots and nothing held for them, at C's sequence number + 1 (so that no search for the
 *      newest checkpoint prefers C to it); META names C';
 *    - of a named snapshot: META names C; the clone is opened, restored to the snapshot's state
 *      and rid of the snapshots it is not to keep, each durably as on any database; then a
 *      checkpoint of its own in a fresh segment, after which the segments the clone does not use
 *      are removed from `target` (their links only).
 * A clone of the head thus costs a checkpoint of `db`, links, and a record: no walk of either
 * tree, whatever their size.
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
  // 1. The state to clone, whole in the log: the newest checkpoint if nothing follows it (its
  // segment may have been sealed since), else a new one.
  await db.checkpointDone
  if (!nothingFollowsCheckpoint(db)) await checkpoint(db, 'meta')
  db.assertWritable()
  const at = db.checkpointAt
  const seq = db.meta.current.checkpointSeq
  const active = segmentOf(at)
  const end = offsetOf(at) + RECORD_HEADER_BYTES + db.log.readRecord(at, 'meta').payload.length
  // 2. Seal S when C ends it (unless an earlier clone sealed it).
  const alreadySealed = db.log.end === logAddress(active + 1, 0) && db.log.segments().includes(active + 1)
  const sealed = alreadySealed || (db.log.end === logAddress(active, end) && active < LAST_SEGMENT)
  if (sealed && !alreadySealed) {
    db.log.roll()
    // The new segment's name durable before S is shared: `db`'s own recovery then ends its log
    // there, and never appends to S again either.
    await db.log.sync()
    db.assertWritable()
  }
  // A clone of the head alone needs only the segments the head uses.
  const headAlone = name === undefined && !request.snapshots
  const record = decodeCheckpoint(db.log.readRecord(at, 'meta').payload, segmentName(active), offsetOf(at), { held: !headAlone })
  // 3. From here to the last share nothing awaits, so no segment of `db` goes meanwhile.
  const copied: string[] = []
  for (const segment of db.log.segments()) {
    if (segment > active || (segment === active && !sealed)) continue
    if (headAlone && !record.live.has(segment)) continue
    const shared = db.log.share(segment, target, { link: request.link })
    if (shared.how === 'linked') result.linkedFiles++
    else copied.push(segmentName(segment))
    result.bytesWritten += shared.bytesWritten
  }
  // 4. The clone's own segment after the shared ones: S up to C's end where S is not shared, then
  // C' for a clone of the head alone.
  const ownSegment = sealed ? active + 1 : active
  let ownBytes = sealed ? 0 : end
  let checkpointAt: number = at
  let checkpointSeq = seq
  const own = target.open(segmentName(ownSegment), { create: true })
  try {
    if (!sealed) own.write(0, db.log.read(logAddress(active, 0), end, 'meta'), 'meta')
    if (headAlone) {
      checkpointAt = logAddress(ownSegment, ownBytes)
      checkpointSeq = seq + 1
      const payload = encodeCheckpoint({ ...record, seq: checkpointSeq, snapshots: [], held: [], replayFrom: 0 })
      writeU64(payload, checkpointAt + RECORD_HEADER_BYTES + payload.length, payload.length - 8)
      const framed = frameRecord(RecordType.CHECKPOINT, payload)
      own.write(ownBytes, framed, 'meta')
      ownBytes += framed.length
    }
    if (ownBytes > 0) await own.sync()
  } finally {
    own.close()
  }
  result.copiedFiles = copied.length + (sealed ? 0 : 1)
  await syncFiles(target, copied)
  const meta = await MetaFile.create(target, { generation: 0, pageSize: db.pageSize, segmentBytes: db.meta.current.segmentBytes, checkpoint: checkpointAt, checkpointSeq })
  meta.close()
  if (name === undefined) {
    await target.syncDirectory()
    await endClone(target)
    result.bytesWritten += target.io.report().totalWritten - writtenBefore
    return result
  }
  // 5. A named snapshot's state: the clone restores it.
  target.lock()
  try {
    const clone = await openDatabase({ fs: target, createIfMissing: false }, db.policy)
    try {
      await restoreNamed(clone, name)
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

/**
 * Whether the newest checkpoint is the whole state, durable, with no record after it: no checkpoint
 * under way, its replay starting just past it, and the log ending there or at the start of the
 * next segment.
 */
function nothingFollowsCheckpoint(db: Database): boolean {
  if (db.frozen || db.checkpointInFlight) return false
  const at = db.checkpointAt
  const end = at + RECORD_HEADER_BYTES + db.log.readRecord(at, 'meta').payload.length
  if (db.replayFrom !== end) return false
  return db.log.end === end || db.log.end === logAddress(segmentOf(at) + 1, 0)
}
