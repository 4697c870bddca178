import { corruption, readU64, writeU64 } from '@strata/storage'
import type { Free } from './space.js'

/** A named snapshot as a checkpoint records it: its state is the tree under `root`. */
export interface StoredSnapshot {
  name: string
  seq: number
  /** Milliseconds since the epoch. */
  createdAt: number
  root: number
  meta: Buffer
}

/**
 * The CHECKPOINT payload (docs/format.md §CHECKPOINT): u64 seq, u64 root page address, u64 live
 * data bytes; u32 segment count, then per segment u32 number and u64 bytes the head uses there;
 * u32 named-snapshot count, then per snapshot u16 name length, name (UTF-8), u64 seq, u64
 * createdAt, u64 root, u32 meta length, meta; u32 held count, then per held free u64 address,
 * u32 bytes, u64 born, u64 seq; u64 replay start (absent in records written before it was added:
 * then the replay starts just past the record).
 */
export interface CheckpointRecord {
  seq: number
  root: number
  dataBytes: number
  /** Bytes each segment holds for the head tree. */
  live: Map<number, number>
  snapshots: StoredSnapshot[]
  /** Bytes the head no longer uses that named snapshots still need. */
  held: Free[]
  /**
   * Log address where recovery starts replaying: the first batch after `seq` is there or later.
   * Before the record itself when the checkpoint was written beside the writes (checkpoint.ts);
   * undefined in a record that predates the field (the replay then starts just past the record).
   */
  replayFrom?: number | undefined
}

export function encodeCheckpoint(c: CheckpointRecord): Buffer {
  const names = c.snapshots.map((s) => Buffer.from(s.name, 'utf8'))
  let size = 28 + 12 * c.live.size + 4 + 4 + 28 * c.held.length + (c.replayFrom === undefined ? 0 : 8)
  c.snapshots.forEach((s, i) => {
    size += 2 + (names[i] as Buffer).length + 24 + 4 + s.meta.length
  })
  const buf = Buffer.alloc(size)
  let at = writeU64(buf, c.seq, 0)
  at = writeU64(buf, c.root, at)
  at = writeU64(buf, c.dataBytes, at)
  at = buf.writeUInt32LE(c.live.size, at)
  for (const [segment, bytes] of [...c.live].sort((a, b) => a[0] - b[0])) {
    at = buf.writeUInt32LE(segment, at)
    at = writeU64(buf, bytes, at)
  }
  at = buf.writeUInt32LE(c.snapshots.length, at)
  c.snapshots.forEach((s, i) => {
    const name = names[i] as Buffer
    at = buf.writeUInt16LE(name.length, at)
    buf.set(name, at)
    at += name.length
    at = writeU64(buf, s.seq, at)
    at = writeU64(buf, s.createdAt, at)
    at = writeU64(buf, s.root, at)
    at = buf.writeUInt32LE(s.meta.length, at)
    buf.set(s.meta, at)
    at += s.meta.length
  })
  at = buf.writeUInt32LE(c.held.length, at)
  for (const f of c.held) {
    at = writeU64(buf, f.address, at)
    at = buf.writeUInt32LE(f.bytes, at)
    at = writeU64(buf, f.born, at)
    at = writeU64(buf, f.seq, at)
  }
  if (c.replayFrom !== undefined) writeU64(buf, c.replayFrom, at)
  return buf
}

/** Decodes a CHECKPOINT payload; without `held`, the held entries are skipped, not read (a caller that needs only the state and space table). */
export function decodeCheckpoint(payload: Buffer, file: string, offset: number, options: { held?: boolean } = {}): CheckpointRecord {
  const bad = () => corruption(file, offset, 'malformed checkpoint record')
  let at = 0
  const need = (n: number) => {
    if (at + n > payload.length) throw bad()
  }
  need(28)
  const seq = readU64(payload, 0)
  const root = readU64(payload, 8)
  const dataBytes = readU64(payload, 16)
  const segments = payload.readUInt32LE(24)
  at = 28
  need(12 * segments + 4)
  const live = new Map<number, number>()
  for (let i = 0; i < segments; i++, at += 12) live.set(payload.readUInt32LE(at), readU64(payload, at + 4))
  const count = payload.readUInt32LE(at)
  at += 4
  const snapshots: StoredSnapshot[] = []
  for (let i = 0; i < count; i++) {
    need(2)
    const nameLength = payload.readUInt16LE(at)
    at += 2
    need(nameLength + 28)
    const name = payload.toString('utf8', at, at + nameLength)
    at += nameLength
    const snapshot = { name, seq: readU64(payload, at), createdAt: readU64(payload, at + 8), root: readU64(payload, at + 16) }
    const metaLength = payload.readUInt32LE(at + 24)
    at += 28
    need(metaLength)
    snapshots.push({ ...snapshot, meta: Buffer.from(payload.subarray(at, at + metaLength)) })
    at += metaLength
  }
  need(4)
  const heldCount = payload.readUInt32LE(at)
  at += 4
  need(28 * heldCount)
  const held: Free[] = []
  if (options.held === false) at += 28 * heldCount
  else
    for (let i = 0; i < heldCount; i++, at += 28) {
      held.push({ address: readU64(payload, at), bytes: payload.readUInt32LE(at + 8), born: readU64(payload, at + 12), seq: readU64(payload, at + 20) })
    }
  let replayFrom: number | undefined
  if (at + 8 === payload.length) {
    replayFrom = readU64(payload, at)
    at += 8
  }
  if (at !== payload.length) throw bad()
  return { seq, root, dataBytes, live, snapshots, held, replayFrom }
}
