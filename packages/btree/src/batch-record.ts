import { corruption, RECORD_HEADER_BYTES, readU64, SALTED_RECORD_HEADER_BYTES, sealRecord, writeU64 } from '@strata/storage'
import type { Operation } from './engine.js'
import type { StoredValue, ValueRef } from './node.js'
import { inlineLimit } from './tree.js'

/**
 * BATCH and VALUE records (docs/format.md §BATCH, §VALUE), the same payloads in both engines' logs
 * so that a batch costs the same bytes in both. Only the framing differs: the ROW engine's log is
 * unsalted, the COW engine's WAL salted, so each encoder takes the salt if there is one.
 *
 * BATCH: u64 seq, u32 count, then per operation
 *   u8 kind (1 put inline, 2 put out-of-line, 3 del), u16 key length, key,
 *   put inline: u32 value length, value; put out-of-line: u32 value length, u64 VALUE record address;
 *   then u64 durable-through: the log address before which every record was durable when the batch
 *   was written (absent in batches of databases written before it was added).
 * VALUE: u16 key length, key, value (the key lets reclamation find the entry that uses it).
 */
const PUT_INLINE = 1
const PUT_REF = 2
const DEL = 3

/** The record types both engines' logs have, with the same numbers (docs/format.md §Log records). */
export const LogRecordType = {
  /** An atomic batch of user operations. */
  BATCH: 1,
  /** A B+tree page image, written by a checkpoint. */
  PAGE: 2,
  /** The end of a checkpoint. */
  CHECKPOINT: 3,
  /** An out-of-line value with its key. */
  VALUE: 4,
} as const

/** An operation as a log keeps it: a put's value is inline bytes or a VALUE record. */
export type LoggedOperation = { type: 'put'; key: Buffer; value: StoredValue } | { type: 'del'; key: Buffer }

function headerBytes(salt: number | undefined): number {
  return salt === undefined ? RECORD_HEADER_BYTES : SALTED_RECORD_HEADER_BYTES
}

function operationBytes(op: LoggedOperation): number {
  if (op.type === 'del') return 3 + op.key.length
  return 3 + op.key.length + 4 + (Buffer.isBuffer(op.value) ? op.value.length : 8)
}

/** Bytes of the framed BATCH record for `ops`, with a header of `recordHeaderBytes`. */
export function batchRecordBytes(ops: LoggedOperation[], recordHeaderBytes = RECORD_HEADER_BYTES): number {
  let bytes = recordHeaderBytes + 12 + 8
  for (const op of ops) bytes += operationBytes(op)
  return bytes
}

/**
 * Encodes a framed BATCH record into `out` at `offset` (exactly batchRecordBytes long), salted when
 * `salt` is given. `durableThrough` is the log's durable end as the batch is written.
 */
export function encodeBatch(seq: number, ops: LoggedOperation[], durableThrough: number, out: Buffer, offset: number, salt?: number): void {
  const header = headerBytes(salt)
  const buf = out.subarray(offset, offset + batchRecordBytes(ops, header))
  let at = writeU64(buf, seq, header)
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
  sealRecord(buf, LogRecordType.BATCH, salt)
}

/** A BATCH payload checked whole: its sequence number, where each operation starts, its durable-through mark. */
export interface BatchOutline {
  seq: number
  /** Offsets in the payload of the operations, in the batch's order (see {@link operationAt}). */
  offsets: number[]
  durableThrough: number | undefined
}

/** Checks a BATCH payload's structure and finds its operations. Throws LEVEL_CORRUPTION if malformed. */
export function outlineBatch(payload: Buffer, file: string, offset: number): BatchOutline {
  const bad = () => corruption(file, offset, 'malformed batch record')
  if (payload.length < 12) throw bad()
  const seq = readU64(payload, 0)
  const count = payload.readUInt32LE(8)
  const offsets: number[] = []
  let at = 12
  for (let i = 0; i < count; i++) {
    if (at + 3 > payload.length) throw bad()
    offsets.push(at)
    const kind = payload[at] as number
    at += 3 + payload.readUInt16LE(at + 1)
    if (at > payload.length) throw bad()
    if (kind === DEL) continue
    if (at + 4 > payload.length) throw bad()
    const length = payload.readUInt32LE(at)
    at += 4
    if (kind === PUT_INLINE) at += length
    else if (kind === PUT_REF) at += 8
    else throw bad()
    if (at > payload.length) throw bad()
  }
  // Batches written before the durable-through mark end with their last operation.
  if (at === payload.length) return { seq, offsets, durableThrough: undefined }
  if (at + 8 !== payload.length) throw bad()
  return { seq, offsets, durableThrough: readU64(payload, at) }
}

/**
 * The operation at `at` in a BATCH payload {@link outlineBatch} checked. Its key and inline value
 * are views of `payload`, which may be a log scan's buffer that the next record overwrites:
 * whoever keeps them copies them or keeps the buffer.
 */
export function operationAt(payload: Buffer, at: number): LoggedOperation {
  const kind = payload[at] as number
  const keyEnd = at + 3 + payload.readUInt16LE(at + 1)
  const key = payload.subarray(at + 3, keyEnd)
  if (kind === DEL) return { type: 'del', key }
  const length = payload.readUInt32LE(keyEnd)
  if (kind === PUT_INLINE) return { type: 'put', key, value: payload.subarray(keyEnd + 4, keyEnd + 4 + length) }
  return { type: 'put', key, value: { address: readU64(payload, keyEnd + 4), length } satisfies ValueRef }
}

/** Whether the operation at `at` in a checked BATCH payload puts a value kept out of line (a VALUE record). */
export function putsOutOfLine(payload: Buffer, at: number): boolean {
  return payload[at] === PUT_REF
}

/** Where an operation's key starts, from the operation's start: after its u8 kind and its u16 key length (little-endian, just before the key). */
export const OPERATION_KEY_OFFSET = 3

/** Decodes a BATCH payload ({@link outlineBatch}, then {@link operationAt} for each operation, with the same caveat). */
export function decodeBatch(payload: Buffer, file: string, offset: number): { seq: number; ops: LoggedOperation[]; durableThrough: number | undefined } {
  const { seq, offsets, durableThrough } = outlineBatch(payload, file, offset)
  return { seq, ops: offsets.map((at) => operationAt(payload, at)), durableThrough }
}

/** Bytes of the framed VALUE record for this key and value, with a header of `recordHeaderBytes`. */
export function valueRecordBytes(keyLength: number, valueLength: number, recordHeaderBytes = RECORD_HEADER_BYTES): number {
  return recordHeaderBytes + 2 + keyLength + valueLength
}

/** Encodes a framed VALUE record into `out` at `offset`, salted when `salt` is given. */
export function encodeValue(key: Buffer, value: Buffer, out: Buffer, offset: number, salt?: number): void {
  const header = headerBytes(salt)
  const buf = out.subarray(offset, offset + valueRecordBytes(key.length, value.length, header))
  const at = buf.writeUInt16LE(key.length, header)
  buf.set(key, at)
  buf.set(value, at + key.length)
  sealRecord(buf, LogRecordType.VALUE, salt)
}

/** Splits a VALUE payload into its key and value (views of the payload). */
export function decodeValue(payload: Buffer, file: string, offset: number): { key: Buffer; value: Buffer } {
  if (payload.length < 2) throw corruption(file, offset, 'malformed value record')
  const keyLength = payload.readUInt16LE(0)
  if (2 + keyLength > payload.length) throw corruption(file, offset, 'malformed value record')
  return { key: payload.subarray(2, 2 + keyLength), value: payload.subarray(2 + keyLength) }
}

/**
 * A batch laid out for a log (docs/format.md §BATCH): each put too large for a leaf goes out of
 * line, in a VALUE record ahead of the BATCH record that names its address. Measure first, so the
 * log can place the append; then {@link BatchLayout.encode} once its address is known.
 */
export class BatchLayout {
  /** The framed bytes of the VALUE records and the BATCH record together. */
  readonly bytes: number
  /** Bytes of the VALUE records. */
  readonly valueBytes: number
  /** Key and value bytes the user wrote. */
  readonly userBytes: number
  readonly #ops: Operation[]
  readonly #limit: number
  readonly #salt: number | undefined

  /** Lays out `ops` for a log of pages of `pageSize`, salted when `salt` is given. */
  constructor(ops: Operation[], pageSize: number, salt?: number) {
    this.#ops = ops
    this.#limit = inlineLimit(pageSize)
    this.#salt = salt
    const header = headerBytes(salt)
    let userBytes = 0
    let valueBytes = 0
    const placeholders = ops.map((op): LoggedOperation => {
      userBytes += op.key.length + (op.type === 'put' ? op.value.length : 0)
      if (!this.#isLarge(op)) return op
      valueBytes += valueRecordBytes(op.key.length, op.value.length, header)
      return { type: 'put', key: op.key, value: { address: 0, length: op.value.length } }
    })
    this.userBytes = userBytes
    this.valueBytes = valueBytes
    this.bytes = valueBytes + batchRecordBytes(placeholders, header)
  }

  #isLarge(op: Operation): op is Operation & { type: 'put' } {
    return op.type === 'put' && op.key.length + op.value.length > this.#limit
  }

  /**
   * The records, `bytes` long, and the operations as the BATCH record names them. `addressOf` gives
   * the address a VALUE record at `offset` into the append will have.
   */
  encode(seq: number, durableThrough: number, addressOf: (offset: number) => number): { buf: Buffer; logged: LoggedOperation[] } {
    const header = headerBytes(this.#salt)
    const buf = Buffer.allocUnsafe(this.bytes)
    let at = 0
    const logged = this.#ops.map((op): LoggedOperation => {
      if (!this.#isLarge(op)) return op
      encodeValue(op.key, op.value, buf, at, this.#salt)
      const ref = { address: addressOf(at), length: op.value.length }
      at += valueRecordBytes(op.key.length, op.value.length, header)
      return { type: 'put', key: op.key, value: ref }
    })
    encodeBatch(seq, logged, durableThrough, buf, at, this.#salt)
    return { buf, logged }
  }
}
