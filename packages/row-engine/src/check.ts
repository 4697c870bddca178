import { checkTree, valueRecordBytes } from '@strata/btree'
import { RECORD_HEADER_BYTES } from '@strata/storage'
import { segmentOf } from './address.js'
import type { Database } from './database.js'
import { namedRoot } from './named.js'

/** `check()`: the head tree, its data bytes, every named snapshot, and the space counted per segment. */
export function checkDatabase(db: Database): string[] {
  const { problems, shape } = checkTree(db, db.tree.root)
  if (db.tree.dataBytes !== shape.liveBytes) {
    problems.push(`live data bytes recorded as ${db.tree.dataBytes} but entries hold ${shape.liveBytes}`)
  }
  // Every named snapshot must read whole: its pages are counted as used or held.
  for (const entry of db.named.values()) {
    for (const problem of checkTree(db, namedRoot(db, entry)).problems) problems.push(`snapshot ${JSON.stringify(entry.name)}: ${problem}`)
  }
  // Every byte the head uses must be counted in its segment, or reclamation could remove it.
  const expected = db.space.pendingBySegment()
  for (const [address, bytes] of shape.pages) addTo(expected, segmentOf(address), RECORD_HEADER_BYTES + bytes)
  for (const [address, keyLength, valueLength] of shape.values) addTo(expected, segmentOf(address), valueRecordBytes(keyLength, valueLength))
  const segments = new Set([...expected.keys(), ...db.space.live.keys()])
  for (const segment of segments) {
    const counted = db.space.live.get(segment) ?? 0
    const found = expected.get(segment) ?? 0
    if (counted !== found) problems.push(`segment ${segment}: ${counted} bytes counted as used, ${found} found in use`)
    if (found > 0 && !db.log.segments().includes(segment)) problems.push(`segment ${segment} is in use but missing`)
  }
  return problems
}

function addTo(map: Map<number, number>, key: number, delta: number): void {
  map.set(key, (map.get(key) ?? 0) + delta)
}
