import { crc32 } from './checksum.js'

/**
 * How a log frames a record (docs/format.md §Log records, §COW WAL records). Every record is
 *
 *   0  u32  CRC-32 of bytes [4, headerBytes + length)
 *   4  u32  length of the payload
 *   8  u8   type
 *   9  u8[3] reserved (0)
 *   12 u32  salt (salted framing only): ties a record to one generation of its log
 *   headerBytes payload
 *
 * The ROW engine's log is unsalted (a 12-byte header); the COW engine's WAL is salted (16 bytes),
 * as SQLite's WAL salts its frames, so that a record an earlier generation left behind ends a scan.
 */

/** Bytes before an unsalted record's payload. */
export const RECORD_HEADER_BYTES = 12

/** Bytes before a salted record's payload. */
export const SALTED_RECORD_HEADER_BYTES = 16

function headerBytesFor(salt: number | undefined): number {
  return salt === undefined ? RECORD_HEADER_BYTES : SALTED_RECORD_HEADER_BYTES
}

/**
 * Writes the header of a record whose payload already sits after the header; returns `buf`.
 * Salted framing when `salt` is given.
 */
export function sealRecord(buf: Buffer, type: number, salt?: number): Buffer {
  const headerBytes = headerBytesFor(salt)
  buf.writeUInt32LE(buf.length - headerBytes, 4)
  buf.writeUInt32LE(type, 8)
  if (salt !== undefined) buf.writeUInt32LE(salt >>> 0, 12)
  buf.writeUInt32LE(crc32(buf.subarray(4)), 0)
  return buf
}

/** Frames `payload` as a record of `type` into a new buffer (salted when `salt` is given). */
export function frameRecord(type: number, payload: Uint8Array, salt?: number): Buffer {
  const buf = Buffer.allocUnsafe(headerBytesFor(salt) + payload.length)
  buf.set(payload, buf.length - payload.length)
  return sealRecord(buf, type, salt)
}

/**
 * The record at the start of `buf` if it is whole, its checksum holds and (salted framing, when
 * `salt` is given) it carries `salt`; otherwise undefined. The payload is a view of `buf`.
 */
export function parseRecord(buf: Buffer, salt?: number): { type: number; payload: Buffer } | undefined {
  const headerBytes = headerBytesFor(salt)
  if (buf.length < headerBytes) return undefined
  const length = buf.readUInt32LE(4)
  if (headerBytes + length > buf.length) return undefined
  const whole = buf.subarray(0, headerBytes + length)
  if (crc32(whole.subarray(4)) !== whole.readUInt32LE(0)) return undefined
  if (salt !== undefined && whole.readUInt32LE(12) !== salt >>> 0) return undefined
  return { type: whole.readUInt8(8), payload: whole.subarray(headerBytes) }
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
