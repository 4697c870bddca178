import type { StoredValue, ValueRef } from '@strata/btree'
import { corruption } from '@strata/storage'
import { RECORD_HEADER_BYTES, RecordType, readU64, sealRecord, writeU64 } from './record.js'

/**
 * BATCH and VALUE payloads (docs/format.md §COW WAL records), the same layouts as the ROW
 * engine's log so that a batch costs the same bytes in both engines.
 *
 * BATCH: u64 seq, u32 count, then per operation u8 kind (1 put inline, 2 put out-of-line,
 * 3 del), u16 key length, key, and for puts u32 value length then the value (kind 1) or the u64
 * value address (kind 2), then u64 durable-through: the LSN before which every record was durable
 * when the batch was written (absent in batches written before it was added). VALUE: u16 key
 * length, key, value.
 */
const PUT_INLINE = 1
const PUT_REF = 2
const DEL = 3

/** An operation as the WAL keeps it: a put's value is inline bytes or a reference to a VALUE record. */
export type LoggedOperation = { type: 'put'; key: Buffer; value: StoredValue } | { type: 'del'; key: Buffer }

function operationBytes(op: LoggedOperation): number {
  if (op.type === 'del') return 3 + op.key.length
  return 3 + op.key.length + 4 + (Buffer.isBuffer(op.value) ? op.value.length : 8)
}

/** Bytes of the framed BATCH record for `ops`. */
export function batchRecordBytes(ops: LoggedOperation[]): number {
  let bytes = RECORD_HEADER_BYTES + 12 + 8
  for (const op of ops) bytes += operationBytes(op)
  return bytes
}

/**
 * Encodes a framed BATCH record into `out` at `offset` (exactly batchRecordBytes long);
 * `durableThrough` is the WAL's durable end as the batch is written (see Wal.durableEnd).
 */
export function encodeBatch(seq: number, ops: LoggedOperation[], durableThrough: number, out: Buffer, offset: number, salt: number): void {
  const buf = out.subarray(offset, offset + batchRecordBytes(ops))
  let at = writeU64(buf, seq, RECORD_HEADER_BYTES)
  at = buf.writeUInt32LE(ops.length, at)
  for (const op of ops) {
    const kind = op.type === 'del' ? DEL : Buffer.isBuffer(op.value) ? PUT_INLINE : PUT_REF
    at = buf.writeUInt8(kind, at)
    at = buf.writeUInt16LE(op.key.length, at)
    buf.set(op.key, at)
    at += op.key.length
    if (op.type === 'del') continue
    at = buf.writeUInt32LE(op.value.length, at)
    if (Buffer.isBuffer(op.value)) {
      buf.set(op.value, at)
      at += op.value.length
    } else {
      at = writeU64(buf, op.value.address, at)
    }
  }
  writeU64(buf, durableThrough, at)
  sealRecord(buf, RecordType.BATCH, salt)
}

/**
 * Decodes a BATCH payload. Keys and inline values are views of `payload`: whoever keeps them keeps
 * the payload's buffer alive (the next checkpoint moves them into page images).
 */
export function decodeBatch(payload: Buffer, file: string, offset: number): { seq: number; ops: LoggedOperation[]; durableThrough: number | undefined } {
  const bad = () => corruption(file, offset, 'malformed batch record')
  if (payload.length < 12) throw bad()
  const seq = readU64(payload, 0)
  const count = payload.readUInt32LE(8)
  const ops: LoggedOperation[] = []
  let at = 12
  for (let i = 0; i < count; i++) {
    if (at + 3 > payload.length) throw bad()
    const kind = payload.readUInt8(at)
    const keyLength = payload.readUInt16LE(at + 1)
    at += 3
    if (at + keyLength > payload.length) throw bad()
    const key = payload.subarray(at, at + keyLength)
    at += keyLength
    if (kind === DEL) {
      ops.push({ type: 'del', key })
      continue
    }
    if (at + 4 > payload.length) throw bad()
    const length = payload.readUInt32LE(at)
    at += 4
    if (kind === PUT_INLINE) {
      if (at + length > payload.length) throw bad()
      ops.push({ type: 'put', key, value: payload.subarray(at, at + length) })
      at += length
    } else if (kind === PUT_REF) {
      if (at + 8 > payload.length) throw bad()
      const ref: ValueRef = { address: readU64(payload, at), length }
      ops.push({ type: 'put', key, value: ref })
      at += 8
    } else {
      throw bad()
    }
  }
  // Batches written before the durable-through mark end with their last operation.
  if (at === payload.length) return { seq, ops, durableThrough: undefined }
  if (at + 8 !== payload.length) throw bad()
  return { seq, ops, durableThrough: readU64(payload, at) }
}

/** Bytes of the framed VALUE record for this key and value. */
export function valueRecordBytes(keyLength: number, valueLength: number): number {
  return RECORD_HEADER_BYTES + 2 + keyLength + valueLength
}

/** Encodes a framed VALUE record into `out` at `offset`. */
export function encodeValue(key: Buffer, value: Buffer, out: Buffer, offset: number, salt: number): void {
  const buf = out.subarray(offset, offset + valueRecordBytes(key.length, value.length))
  const at = buf.writeUInt16LE(key.length, RECORD_HEADER_BYTES)
  buf.set(key, at)
  buf.set(value, at + key.length)
  sealRecord(buf, RecordType.VALUE, salt)
}

/** Splits a VALUE payload into its key and value (views of the payload). */
export function decodeValue(payload: Buffer, file: string, offset: number): { key: Buffer; value: Buffer } {
  if (payload.length < 2) throw corruption(file, offset, 'malformed value record')
  const keyLength = payload.readUInt16LE(0)
  if (2 + keyLength > payload.length) throw corruption(file, offset, 'malformed value record')
  return { key: payload.subarray(2, 2 + keyLength), value: payload.subarray(2 + keyLength) }
}
