import { type Child, decodeValue, encodeValue, isRef, type Node, type PageAddress, valueRecordBytes } from '@strata/btree'
import { parseRecord, RECORD_HEADER_BYTES } from '@strata/storage'
import { logAddress, offsetOf, segmentOf } from './address.js'
import type { Database } from './database.js'
import { readPathAhead } from './reads.js'
import { RecordType } from './record.js'
import { segmentName } from './segment-log.js'
import { keptForSnapshots, pinsSharing, SPACE_AIM, spaceBound } from './space-policy.js'

/** Sealed segments whose used bytes fall below this share of their size are cleaned. */
const CLEAN_BELOW = 0.5

/** Removes sealed segments (before the newest checkpoint) that nothing uses or holds. */
export function removeEmptySegments(db: Database): void {
  const replayFrom = segmentOf(db.replayFrom)
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
  const replayFrom = segmentOf(db.replayFrom)
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
  const chosen = new Set(segments)
  for (const page of db.tree.relocatePages((address) => chosen.has(segmentOf(address)))) {
    moved = true
    db.relocatedBytes += RECORD_HEADER_BYTES + page.bytes
  }
  // Segments that may hold values are read through for their VALUE records.
  for (const segment of segments) {
    if (!db.valueSegments.has(segment)) continue
    for (const record of db.log.scanSegment(segment, 'reclaim')) {
      if (record.type !== RecordType.VALUE) continue
      const { key, value } = decodeValue(record.payload, segmentName(segment), offsetOf(record.address))
      if (copyValue(db, key, value, record.address)) moved = true
    }
  }
  if (!moved) return false
  db.publish(false)
  return true
}

/** Pages one cleaning turn relocates; their leaves are read ahead, off the event loop, before it. */
const TURN_PAGES = 256
/** VALUE records one cleaning turn looks at; the head's paths to their keys are read ahead first. */
const TURN_VALUES = 256
/** Page reads in flight at once while a turn's pages are read ahead. */
const READS_AHEAD = 16
/** Bytes read at once when a segment that may hold values is read through. */
const SEGMENT_READ_BYTES = 1024 * 1024

/**
 * Cleans the segments the policy picks (`victims`) beside the writes, after a policy checkpoint:
 * 1. On the write queue, the walk of the head's branches that finds the pages it uses in them.
 * 2. In turns of TURN_PAGES pages: their leaves read into the page cache off the event loop, then
 *    one task on the write queue relocates them (no page read there, unless the cache let one go)
 *    and publishes the head. Writes queued meanwhile go between the turns.
 * 3. Each chosen segment that may hold VALUE records read through off the event loop, then in
 *    turns of TURN_VALUES records: the head's paths to their keys read ahead, then one task copies
 *    the values the head still references.
 * One cleaning at a time; it stops when the database closes or a write fails. Until the next
 * checkpoint is durable, recovery finds everything where it was, as with {@link cleanSegments}.
 */
export function queueCleaning(db: Database): void {
  if (db.cleaning || db.closed || db.log.broken) return
  db.cleaning = true
  const work = cleanInTurns(db)
    // A read that fails stops the cleaning: what it moved is the next checkpoint's, as any change.
    .catch(() => undefined)
    .finally(() => {
      db.cleaning = false
      db.readsInFlight.delete(work)
    })
  // A close lets the reads in flight end before it closes the files.
  db.readsInFlight.add(work)
}

async function cleanInTurns(db: Database): Promise<void> {
  const stopped = () => db.closed || db.log.broken !== undefined
  const segments = await db.tasks.run(async () => (stopped() ? [] : victims(db, { all: false })))
  if (segments.length === 0) return
  const chosen = new Set(segments)
  const branches = await readBranchesAhead(db)
  const pages = await db.tasks.run(async () => (stopped() ? [] : withPagesAhead(db, branches, () => db.tree.pagesIn((address) => chosen.has(segmentOf(address))))))
  for (let i = 0; i < pages.length && !stopped(); i += TURN_PAGES) {
    const turn = pages.slice(i, i + TURN_PAGES)
    const ahead = await readPagesAhead(
      db,
      turn.map((p) => p.address),
      branches,
    )
    await db.tasks.run(async () => {
      if (!stopped()) withPagesAhead(db, ahead, () => relocateTurn(db, turn))
    })
  }
  for (const segment of segments) {
    if (stopped()) return
    if (!db.valueSegments.has(segment) || !db.log.segments().includes(segment)) continue
    const values = await readValueRecords(db, segment)
    for (let i = 0; i < values.length && !stopped(); i += TURN_VALUES) {
      const turn = values.slice(i, i + TURN_VALUES)
      for (const v of turn) await readPathAhead(db, v.key)
      await db.tasks.run(async () => {
        if (stopped() || pinsSharing(db, segment).length > 0) return
        if (turn.map((v) => copyValue(db, v.key, v.value, v.address)).some(Boolean)) db.publish(false)
      })
    }
  }
}

/** Relocates the pages of one turn that the head still uses, and publishes the head if any moved. */
function relocateTurn(db: Database, turn: { probe: Uint8Array; address: PageAddress }[]): void {
  let moved = false
  for (const page of turn) {
    // A pin taken since the segment was chosen may share its pages: moving them would copy them.
    if (pinsSharing(db, segmentOf(page.address)).length > 0) continue
    const bytes = db.tree.relocate(page.probe, page.address)
    if (bytes === 0) continue
    moved = true
    db.relocatedBytes += RECORD_HEADER_BYTES + bytes
  }
  if (moved) db.publish(false)
}

/**
 * Reads the pages at `addresses` that the cache lacks, off the event loop, READS_AHEAD at a time,
 * and returns them for the turn to use (the cache, if small, could let them go before it runs).
 */
async function readPagesAhead(db: Database, addresses: PageAddress[], also: Map<PageAddress, Node>): Promise<Map<PageAddress, Node>> {
  const ahead = new Map(also)
  const missing = addresses.filter((address) => db.cache.peek(address) === undefined && !ahead.has(address))
  for (let i = 0; i < missing.length && !db.closed; i += READS_AHEAD) {
    await Promise.all(missing.slice(i, i + READS_AHEAD).map(async (address) => ahead.set(address, await db.readPageAsync(address, false))))
  }
  return ahead
}

/**
 * The head's branches that neither the tree nor the cache holds, read off the event loop level by
 * level (the leftmost path first, which tells where the leaves are; no other leaf), so that the
 * walk that finds the pages to move, and the turns that move them, read none at once. A page never
 * changes, so what is read stays right for its address while the head moves on.
 */
async function readBranchesAhead(db: Database): Promise<Map<PageAddress, Node>> {
  const ahead = new Map<PageAddress, Node>()
  const read = async (address: PageAddress) => {
    const node = db.cache.peek(address) ?? ahead.get(address) ?? (await db.readPageAsync(address, false))
    ahead.set(address, node)
    return node
  }
  const inMemory = (child: Child) => (typeof child === 'number' ? (db.cache.peek(child) ?? ahead.get(child)) : child)
  let height = 0
  for (let node = db.tree.root; !node.leaf && !db.closed; height++) {
    const child = node.children[0] as Child
    node = inMemory(child) ?? (await read(child as PageAddress))
  }
  let level: Node[] = [db.tree.root]
  for (let depth = 0; depth < height - 1 && !db.closed; depth++) {
    const next: Node[] = []
    const missing: PageAddress[] = []
    for (const branch of level) {
      if (branch.leaf) continue
      for (const child of branch.children) {
        const node = inMemory(child)
        if (node) next.push(node)
        else missing.push(child as PageAddress)
      }
    }
    for (let i = 0; i < missing.length && !db.closed; i += READS_AHEAD) next.push(...(await Promise.all(missing.slice(i, i + READS_AHEAD).map(read))))
    level = next
  }
  return ahead
}

/** Runs `work` with `ahead` as the pages read ahead for it (`Database.pagesAhead`). */
function withPagesAhead<T>(db: Database, ahead: Map<PageAddress, Node>, work: () => T): T {
  db.pagesAhead = ahead
  try {
    return work()
  } finally {
    db.pagesAhead = undefined
  }
}

/** The VALUE records of `segment`, read through off the event loop in SEGMENT_READ_BYTES reads. */
async function readValueRecords(db: Database, segment: number): Promise<{ address: number; key: Buffer; value: Buffer }[]> {
  const data = Buffer.allocUnsafe(db.log.segmentSize(segment))
  for (let at = 0; at < data.length && !db.closed; ) {
    const target = data.subarray(at, Math.min(data.length, at + SEGMENT_READ_BYTES))
    const reading = db.log.readIntoAsync(logAddress(segment, at), target, 'reclaim')
    const got = reading === undefined ? db.log.readInto(logAddress(segment, at), target, 'reclaim') : await reading
    if (got === 0) break
    at += got
  }
  const out: { address: number; key: Buffer; value: Buffer }[] = []
  const where = segmentName(segment)
  for (let at = 0; ; ) {
    const record = parseRecord(data.subarray(at))
    if (!record) break
    if (record.type === RecordType.VALUE) {
      const { key, value } = decodeValue(record.payload, where, at)
      out.push({ address: logAddress(segment, at), key, value })
    }
    at += RECORD_HEADER_BYTES + record.payload.length
  }
  return out
}

/** Copies the value at `address` to a new VALUE record if the head's entry for `key` still references it; returns whether it did. */
function copyValue(db: Database, key: Buffer, value: Buffer, address: number): boolean {
  const current = db.tree.get(key)
  if (current === undefined || !isRef(current) || current.address !== address) return false
  const copy = Buffer.allocUnsafe(valueRecordBytes(key.length, value.length))
  encodeValue(key, value, copy, 0)
  const at = db.log.append(copy, 'reclaim')
  db.valueSegments.add(segmentOf(at))
  db.noteBorn(at, 0)
  db.space.use(at, copy.length)
  db.tree.put(Buffer.from(key), { address: at, length: value.length })
  return true
}
