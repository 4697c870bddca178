import { corruption, readU64, writeU64 } from '@strata/storage'

/**
 * Log records of the named-snapshot catalogue (docs/format.md §SNAPSHOT, §DROP, §RESTORE). Each
 * takes effect, on replay, at its place among the batches:
 *
 * SNAPSHOT: u64 seq, u64 createdAt, u16 name length, name, u32 meta length, meta — names the
 *   state after batch `seq`.
 * DROP: u16 name length, name — the snapshot is deleted.
 * RESTORE: u64 seq (the new head's sequence number), u16 name length, name — the head becomes
 *   the named snapshot's state.
 */
export interface SnapshotRecord {
  seq: number
  createdAt: number
  name: string
  meta: Buffer
}

export function encodeSnapshotRecord(r: SnapshotRecord): Buffer {
  const name = Buffer.from(r.name, 'utf8')
  const buf = Buffer.alloc(22 + name.length + 4 + r.meta.length)
  let at = writeU64(buf, r.seq, 0)
  at = writeU64(buf, r.createdAt, at)
  at = buf.writeUInt16LE(name.length, at)
  buf.set(name, at)
  at += name.length
  at = buf.writeUInt32LE(r.meta.length, at)
  buf.set(r.meta, at)
  return buf
}

export function decodeSnapshotRecord(payload: Buffer, file: string, offset: number): SnapshotRecord {
  const bad = () => corruption(file, offset, 'malformed snapshot record')
  if (payload.length < 22) throw bad()
  const nameLength = payload.readUInt16LE(16)
  if (22 + nameLength + 4 > payload.length) throw bad()
  const metaLength = payload.readUInt32LE(18 + nameLength)
  if (22 + nameLength + 4 + metaLength !== payload.length) throw bad()
  return {
    seq: readU64(payload, 0),
    createdAt: readU64(payload, 8),
    name: payload.toString('utf8', 18, 18 + nameLength),
    meta: Buffer.from(payload.subarray(22 + nameLength, 22 + nameLength + metaLength)),
  }
}

export function encodeDropRecord(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8')
  const buf = Buffer.alloc(2 + bytes.length)
  buf.writeUInt16LE(bytes.length, 0)
  buf.set(bytes, 2)
  return buf
}

export function decodeDropRecord(payload: Buffer, file: string, offset: number): string {
  if (payload.length < 2 || 2 + payload.readUInt16LE(0) !== payload.length) throw corruption(file, offset, 'malformed drop record')
  return payload.toString('utf8', 2)
}

export function encodeRestoreRecord(seq: number, name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8')
  const buf = Buffer.alloc(10 + bytes.length)
  writeU64(buf, seq, 0)
  buf.writeUInt16LE(bytes.length, 8)
  buf.set(bytes, 10)
  return buf
}

export function decodeRestoreRecord(payload: Buffer, file: string, offset: number): { seq: number; name: string } {
  if (payload.length < 10 || 10 + payload.readUInt16LE(8) !== payload.length) throw corruption(file, offset, 'malformed restore record')
  return { seq: readU64(payload, 0), name: payload.toString('utf8', 10) }
}
