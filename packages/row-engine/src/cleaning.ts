import { decodeValue, encodeValue, isRef, type PageAddress, pageProbe, valueRecordBytes } from '@strata/btree'
import { RECORD_HEADER_BYTES } from '@strata/storage'
import { offsetOf, segmentOf } from './address.js'
import type { Database } from './database.js'
import { RecordType } from './record.js'
import { segmentName } from './segment-log.js'
import { keptForSnapshots, pinsSharing, SPACE_AIM, spaceBound } from './space-policy.js'

/** Sealed segments whose used bytes fall below this share of their size are cleaned. */
const CLEAN_BELOW = 0.5

/** Removes sealed segments (before the newest checkpoint) that nothing uses or holds. */
export function removeEmptySegments(db: Database): void {
  const replayFrom = segmentOf(db.checkpointAt)
  for (const segment of db.log.segments()) {
    if (segment < replayFrom && db.space.isEmpty(segment)) {
      db.log.remove(segment)
      db.space.forget(segment)
      db.valueSegments.delete(segment)
      db.oldestBorn.delete(segment)
    }
  }
}

/**
 * Sealed segments to clean, of those the head still uses (one it does not use has nothing to
 * move: only pins keep it) and no pin shares (moving its pages would copy them): with `all`, all
 * of them, for a full compaction. Else the emptiest first, each below CLEAN_BELOW used or while
 * the files stay past the space policy's aim, until the bytes to move reach the larger of a
 * checkpoint turn's pages, `minLogBytes` and a quarter of the live data.
 */
export function victims(db: Database, options: { all: boolean }): number[] {
  const replayFrom = segmentOf(db.checkpointAt)
  const candidates: { segment: number; size: number; used: number }[] = []
  for (const segment of db.log.segments()) {
    if (segment >= replayFrom) continue
    const used = db.space.live.get(segment) ?? 0
    // What pins share with the head stays where it is: moving it would copy it, not free it.
    if (used > 0 && pinsSharing(db, segment).length === 0) candidates.push({ segment, size: db.log.segmentSize(segment), used })
  }
  candidates.sort((a, b) => a.used / Math.max(1, a.size) - b.used / Math.max(1, b.size))
  if (options.all) return candidates.map((c) => c.segment)
  let files = db.log.bytes() - keptForSnapshots(db)
  const aim = SPACE_AIM * spaceBound(db)
  let budget = Math.max(db.policy.slicePages * db.pageSize, db.policy.minLogBytes, db.tree.dataBytes / 4)
  const chosen: number[] = []
  for (const c of candidates) {
    if (budget <= 0 || (c.used >= CLEAN_BELOW * c.size && files <= aim)) break
    chosen.push(c.segment)
    files -= c.size - c.used
    budget -= c.used
  }
  return chosen
}

/**
 * Moves what the head still uses out of `segments`: pages become dirty and are rewritten by the
 * next checkpoint; values are copied to new VALUE records. Returns whether anything moved; the
 * segments go after the next checkpoint (at once if the caller checkpoints now). Until that
 * checkpoint is durable, recovery still finds everything where it was. Pages only a pinned
 * snapshot uses stay until it is released.
 */
export function cleanSegments(db: Database, segments: number[]): boolean {
  if (segments.length === 0) return false
  let moved = false
  // Segments without values: the tree knows which of their pages the head uses.
  const pagesOnly = new Set(segments.filter((segment) => !db.valueSegments.has(segment)))
  if (pagesOnly.size > 0) {
    for (const page of db.tree.relocatePages((address) => pagesOnly.has(segmentOf(address)))) {
      moved = true
      db.relocatedBytes += RECORD_HEADER_BYTES + page.bytes
    }
  }
  // The others are read through, for their VALUE records (and the pages among them).
  for (const segment of segments) {
    if (pagesOnly.has(segment)) continue
    for (const record of db.log.scanSegment(segment, 'reclaim')) {
      const where = segmentName(segment)
      if (record.type === RecordType.PAGE) {
        const address = (record.address + RECORD_HEADER_BYTES) as PageAddress
        const probe = pageProbe(record.payload, where, offsetOf(record.address))
        if (db.tree.relocate(probe, address)) {
          moved = true
          db.relocatedBytes += RECORD_HEADER_BYTES + record.payload.length
        }
      } else if (record.type === RecordType.VALUE) {
        const { key, value } = decodeValue(record.payload, where, offsetOf(record.address))
        const current = db.tree.get(key)
        if (current === undefined || !isRef(current) || current.address !== record.address) continue
        const copy = Buffer.allocUnsafe(valueRecordBytes(key.length, value.length))
        encodeValue(key, value, copy, 0)
        const address = db.log.append(copy, 'reclaim')
        db.valueSegments.add(segmentOf(address))
        db.noteBorn(address, 0)
        db.space.use(address, copy.length)
        db.tree.put(Buffer.from(key), { address, length: value.length })
        moved = true
      }
    }
  }
  if (!moved) return false
  db.publish(false)
  return true
}
