import { corruption } from '@strata/storage'
import { readU64, writeU64 } from './record.js'

/**
 * The CHECKPOINT payload (docs/format.md §CHECKPOINT): u64 seq, u64 root page address, u64 live
 * data bytes, u32 segment count, then per segment u32 number and u64 bytes the tree uses there,
 * then u32 count of named snapshots (0 in this version).
 */
export interface CheckpointRecord {
  seq: number
  root: number
  dataBytes: number
  /** Bytes each segment holds for this checkpoint's tree. */
  live: Map<number, number>
}

export function encodeCheckpoint(c: CheckpointRecord): Buffer {
  const buf = Buffer.alloc(28 + 12 * c.live.size + 4)
  let at = writeU64(buf, c.seq, 0)
  at = writeU64(buf, c.root, at)
  at = writeU64(buf, c.dataBytes, at)
  at = buf.writeUInt32LE(c.live.size, at)
  for (const [segment, bytes] of [...c.live].sort((a, b) => a[0] - b[0])) {
    at = buf.writeUInt32LE(segment, at)
    at = writeU64(buf, bytes, at)
  }
  buf.writeUInt32LE(0, at)
  return buf
}

export function decodeCheckpoint(payload: Buffer, file: string, offset: number): CheckpointRecord {
  if (payload.length < 32) throw corruption(file, offset, 'malformed checkpoint record')
  const count = payload.readUInt32LE(24)
  if (payload.length !== 28 + 12 * count + 4) throw corruption(file, offset, 'malformed checkpoint record')
  const live = new Map<number, number>()
  for (let i = 0, at = 28; i < count; i++, at += 12) live.set(payload.readUInt32LE(at), readU64(payload, at + 4))
  return { seq: readU64(payload, 0), root: readU64(payload, 8), dataBytes: readU64(payload, 16), live }
}
