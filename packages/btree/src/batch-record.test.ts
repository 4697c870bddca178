import { crc32, parseRecord, SALTED_RECORD_HEADER_BYTES } from '@strata/storage'
import { describe, expect, it } from 'vitest'
import { BatchLayout, batchRecordBytes, decodeBatch, decodeValue, encodeBatch, type LoggedOperation, LogRecordType, valueRecordBytes } from './batch-record.js'
import type { Operation } from './engine.js'

const ops: LoggedOperation[] = [
  { type: 'put', key: Buffer.from('a'), value: Buffer.from('xy') },
  { type: 'put', key: Buffer.from('b'), value: { address: 2 ** 33 + 5, length: 9000 } },
  { type: 'del', key: Buffer.from('c') },
]

/** The payload of docs/format.md §BATCH for `ops` at sequence 7, durable through 300, built by hand. */
const payload = Buffer.concat([
  Buffer.from([7, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0]),
  Buffer.from([1, 1, 0, 0x61, 2, 0, 0, 0, 0x78, 0x79]),
  Buffer.from([2, 1, 0, 0x62, 0x28, 0x23, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0]),
  Buffer.from([3, 1, 0, 0x63]),
  Buffer.from([0x2c, 1, 0, 0, 0, 0, 0, 0]),
])

function encoded(salt?: number): Buffer {
  const header = salt === undefined ? 12 : SALTED_RECORD_HEADER_BYTES
  const out = Buffer.alloc(batchRecordBytes(ops, header) + 4, 0xee)
  encodeBatch(7, ops, 300, out, 2, salt)
  expect(out.subarray(0, 2)).toEqual(Buffer.from([0xee, 0xee]))
  expect(out.subarray(-2)).toEqual(Buffer.from([0xee, 0xee]))
  return out.subarray(2, -2)
}

describe('BATCH and VALUE records', () => {
  it('a BATCH record holds the payload docs/format.md lays out, under a 12-byte header', () => {
    const record = encoded()
    expect(record.subarray(12)).toEqual(payload)
    expect(record.readUInt32LE(4)).toBe(payload.length)
    expect(record.subarray(8, 12)).toEqual(Buffer.from([LogRecordType.BATCH, 0, 0, 0]))
    expect(record.readUInt32LE(0)).toBe(crc32(record.subarray(4)))
  })

  it('a salted BATCH record holds the same payload after the salt', () => {
    const record = encoded(0xdeadbeef)
    expect(record.readUInt32LE(12)).toBe(0xdeadbeef)
    expect(record.subarray(16)).toEqual(payload)
    expect(parseRecord(record, 0xdeadbeef)?.payload).toEqual(payload)
    expect(parseRecord(record, 1)).toBeUndefined()
  })

  it('decodes what it encodes, and a batch written before the durable-through mark', () => {
    expect(decodeBatch(payload, 'log', 0)).toEqual({ seq: 7, ops, durableThrough: 300 })
    expect(decodeBatch(payload.subarray(0, -8), 'log', 0)).toEqual({ seq: 7, ops, durableThrough: undefined })
  })

  it('a payload that does not parse is LEVEL_CORRUPTION', () => {
    const unknownKind = Buffer.from(payload)
    unknownKind[12] = 9
    for (const bad of [payload.subarray(0, 11), payload.subarray(0, -3), unknownKind, Buffer.concat([payload, Buffer.from([0])])]) {
      expect(() => decodeBatch(bad, 'log', 40)).toThrow(expect.objectContaining({ code: 'LEVEL_CORRUPTION' }))
    }
  })

  it('a VALUE record splits back into its key and value', () => {
    expect(decodeValue(Buffer.from([2, 0, 0x6b, 0x6b, 1, 2, 3]), 'log', 0)).toEqual({ key: Buffer.from('kk'), value: Buffer.from([1, 2, 3]) })
    expect(() => decodeValue(Buffer.from([5, 0, 1]), 'log', 0)).toThrow(expect.objectContaining({ code: 'LEVEL_CORRUPTION' }))
  })
})

describe('BatchLayout', () => {
  const large = Buffer.alloc(3000, 5)
  const batch: Operation[] = [
    { type: 'put', key: Buffer.from('small'), value: Buffer.from('v') },
    { type: 'put', key: Buffer.from('large'), value: large },
    { type: 'del', key: Buffer.from('gone') },
  ]

  for (const salt of [undefined, 77]) {
    it(`puts a large value in a VALUE record ahead of the batch that names its address (${salt === undefined ? 'unsalted' : 'salted'})`, () => {
      const header = salt === undefined ? 12 : SALTED_RECORD_HEADER_BYTES
      const layout = new BatchLayout(batch, 1024, salt)
      expect(layout.userBytes).toBe(5 + 1 + 5 + 3000 + 4)
      expect(layout.valueBytes).toBe(valueRecordBytes(5, 3000, header))
      const { buf, logged } = layout.encode(4, 10, (offset) => 1000 + offset)
      expect(buf.length).toBe(layout.bytes)
      expect(logged[1]).toEqual({ type: 'put', key: Buffer.from('large'), value: { address: 1000, length: 3000 } })
      expect(logged[0]).toBe(batch[0])
      const value = parseRecord(buf, salt)
      expect(value?.type).toBe(LogRecordType.VALUE)
      expect(decodeValue(value?.payload ?? Buffer.alloc(0), 'log', 0)).toEqual({ key: Buffer.from('large'), value: large })
      const record = parseRecord(buf.subarray(layout.valueBytes), salt)
      expect(record?.type).toBe(LogRecordType.BATCH)
      expect(decodeBatch(record?.payload ?? Buffer.alloc(0), 'log', 0)).toEqual({ seq: 4, ops: logged, durableThrough: 10 })
    })
  }
})
