import { segmentOf } from './address.js'
import type { Database } from './database.js'

/**
 * The space policy keeps the files within max(SPACE_FACTOR × live bytes, live bytes +
 * `minLogBytes`), beside what named snapshots alone keep (docs/architecture.md §Space policy).
 */
const SPACE_FACTOR = 1.5
/** Share of the bound the policy aims for, so that the log written meanwhile fits under it. */
export const SPACE_AIM = 0.85

/** Whether the files, less what snapshots alone keep, are past the share of the bound the policy aims for. */
export function overSpace(db: Database): boolean {
  return db.log.bytes() - keptForSnapshots(db) > SPACE_AIM * spaceBound(db)
}

/** The files the space policy allows, beside what named snapshots alone keep. */
export function spaceBound(db: Database): number {
  const live = db.tree.dataBytes
  return Math.max(SPACE_FACTOR * live, live + db.policy.minLogBytes)
}

/** Bytes of the files that only pins keep: the sum of {@link keptBy} over the segments. */
export function keptForSnapshots(db: Database): number {
  let total = 0
  for (const segment of db.log.segments()) total += keptBy(db, segment)
  return total
}

/** Bytes that deleting the snapshot pinned at `seq` frees, given no other pin at `seq`. */
export function exclusiveBytes(db: Database, seq: number): number {
  const alone = db.space.exclusiveBySegment(seq)
  let total = 0
  for (const segment of db.log.segments()) total += keptBy(db, segment, { seq, alone: alone.get(segment) ?? 0 })
  return total
}

/**
 * Bytes of `segment` that pins keep (with `pin`, that pin alone, `alone` being its bytes held
 * there that no other pin needs):
 * - a sealed segment the head does not use: whole, if those pins hold all its held bytes;
 * - a sealed segment whose pages the pins may share with the head, so that cleaning would copy
 *   them instead of freeing the segment: all but the head's bytes, likewise;
 * - else the bytes held for them.
 */
function keptBy(db: Database, segment: number, pin?: { seq: number; alone: number }): number {
  const held = db.space.held.get(segment) ?? 0
  const kept = pin ? pin.alone : held
  if (!isSealed(db, segment) || kept !== held) return kept
  const live = db.space.live.get(segment) ?? 0
  if (live === 0) return held > 0 ? db.log.segmentSize(segment) : 0
  const sharing = pinsSharing(db, segment)
  const only = sharing.length > 0 && (!pin || sharing.every((s) => s === pin.seq))
  return only ? db.log.segmentSize(segment) - live : kept
}

/** Whether `segment` lies before the newest checkpoint's: cleaning may take it, and it goes once nothing needs it. */
function isSealed(db: Database, segment: number): boolean {
  return segment < segmentOf(db.replayFrom)
}

/**
 * The pins that keep cleaning from freeing `segment`: those that may share a page the head uses
 * there (moving it would copy it, the old copy held for them). Empty if cleaning can free it.
 */
export function pinsSharing(db: Database, segment: number): number[] {
  return db.space.pinnedFrom(db.oldestBorn.get(segment) ?? 0)
}
