import { crc32 } from '@strata/storage'

/**
 * WAL records (docs/format.md §COW WAL records). Every record is
 *
 *   0  u32  CRC-32 of bytes [4, 16 + length)
 *   4  u32  length of the payload
 *   8  u8   type
 *   9  u8[3] reserved (0)
 *   12 u32  salt: the low 32 bits of the WAL's base LSN
 *   16 payload
 *
 * The salt ties a record to one WAL generation, as SQLite's WAL salts its frames: a record left
 * behind by an earlier generation (a reset whose truncation a crash undid) fails the salt check
 * and ends the scan instead of being replayed.
 */
export const RECORD_HEADER_BYTES = 16

/** The record types of the COW engine's WAL. */
export const RecordType = {
  /** An atomic batch of user operations. */
  BATCH: 1,
  /** A full page image with the page number it belongs at, written by a checkpoint. */
  PAGE: 2,
  /** The end of a checkpoint's page images: the new meta's fields. */
  CHECKPOINT: 3,
  /** An out-of-line value with its key. */
  VALUE: 4,
} as const

/** One of the values of {@link RecordType}. */
export type RecordTypeValue = (typeof RecordType)[keyof typeof RecordType]

/** Writes the header of a record whose payload already sits at `buf[16..]`; returns `buf`. */
export function sealRecord(buf: Buffer, type: RecordTypeValue, salt: number): Buffer {
  buf.writeUInt32LE(buf.length - RECORD_HEADER_BYTES, 4)
  buf.writeUInt32LE(type, 8)
  buf.writeUInt32LE(salt >>> 0, 12)
  buf.writeUInt32LE(crc32(buf.subarray(4)), 0)
  return buf
}

/** Frames `payload` as a record of `type` into a new buffer. */
export function frameRecord(type: RecordTypeValue, payload: Uint8Array, salt: number): Buffer {
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length)
  buf.set(payload, RECORD_HEADER_BYTES)
  return sealRecord(buf, type, salt)
}

/**
 * The record at the start of `buf` if it is whole, its checksum holds and it carries `salt`;
 * otherwise undefined. The payload is a view of `buf`.
 */
export function parseRecord(buf: Buffer, salt: number): { type: number; payload: Buffer } | undefined {
  if (buf.length < RECORD_HEADER_BYTES) return undefined
  const length = buf.readUInt32LE(4)
  if (RECORD_HEADER_BYTES + length > buf.length) return undefined
  const whole = buf.subarray(0, RECORD_HEADER_BYTES + length)
  if (crc32(whole.subarray(4)) !== whole.readUInt32LE(0)) return undefined
  if (whole.readUInt32LE(12) !== salt >>> 0) return undefined
  return { type: whole.readUInt8(8), payload: whole.subarray(RECORD_HEADER_BYTES) }
}

/** The salt of a WAL generation that starts at `base`. */
export function saltOf(base: number): number {
  return base % 2 ** 32 >>> 0
}

const TWO_32 = 2 ** 32

/** Writes a u64 (a JS number below 2^53) as two u32 halves, low first; returns the next offset. */
export function writeU64(buf: Buffer, value: number, offset: number): number {
  buf.writeUInt32LE(value % TWO_32, offset)
  buf.writeUInt32LE(Math.floor(value / TWO_32), offset + 4)
  return offset + 8
}

/** Reads a u64 written by {@link writeU64}. */
export function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * TWO_32
}
