import { crc32 } from '@strata/storage'

/**
 * Log records (docs/format.md §Log records). Every record is
 *
 *   0  u32  CRC-32 of bytes [4, 12 + length)
 *   4  u32  length of the payload
 *   8  u8   type
 *   9  u8[3] reserved (0)
 *   12 payload
 */
export const RECORD_HEADER_BYTES = 12

export const RecordType = {
  /** An atomic batch of user operations. */
  BATCH: 1,
  /** A B+tree page image, written at a checkpoint. */
  PAGE: 2,
  /** A checkpoint: the root of a complete tree and the space table. */
  CHECKPOINT: 3,
  /** An out-of-line value with its key. */
  VALUE: 4,
  /** A named snapshot is created. */
  SNAPSHOT: 5,
  /** A named snapshot is deleted. */
  DROP: 6,
  /** The head becomes a named snapshot's state. */
  RESTORE: 7,
} as const

export type RecordTypeValue = (typeof RecordType)[keyof typeof RecordType]

/** Frames `payload` as a record of `type` into a new buffer. */
export function frameRecord(type: RecordTypeValue, payload: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length)
  buf.writeUInt32LE(payload.length, 4)
  buf.writeUInt32LE(type, 8)
  buf.set(payload, RECORD_HEADER_BYTES)
  buf.writeUInt32LE(crc32(buf.subarray(4)), 0)
  return buf
}

/** Writes the header of a record whose payload is already in place at `buf[12..]`. */
export function sealRecord(buf: Buffer, type: RecordTypeValue): Buffer {
  buf.writeUInt32LE(buf.length - RECORD_HEADER_BYTES, 4)
  buf.writeUInt32LE(type, 8)
  buf.writeUInt32LE(crc32(buf.subarray(4)), 0)
  return buf
}

/** Whether `buf` starts with a whole record whose checksum holds; returns its type and payload. */
export function parseRecord(buf: Buffer): { type: number; payload: Buffer } | undefined {
  if (buf.length < RECORD_HEADER_BYTES) return undefined
  const length = buf.readUInt32LE(4)
  if (RECORD_HEADER_BYTES + length > buf.length) return undefined
  const whole = buf.subarray(0, RECORD_HEADER_BYTES + length)
  if (crc32(whole.subarray(4)) !== whole.readUInt32LE(0)) return undefined
  return { type: whole.readUInt8(8), payload: whole.subarray(RECORD_HEADER_BYTES) }
}

const TWO_32 = 2 ** 32

/** Writes a u64 (a JS number below 2^53) as two u32 halves, low first. */
export function writeU64(buf: Buffer, value: number, offset: number): number {
  buf.writeUInt32LE(value % TWO_32, offset)
  buf.writeUInt32LE(Math.floor(value / TWO_32), offset + 4)
  return offset + 8
}

export function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * TWO_32
}
