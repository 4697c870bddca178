import { describe, expect, it } from 'vitest'
import { frameRecord, parseRecord, RECORD_HEADER_BYTES, readU64, SALTED_RECORD_HEADER_BYTES, writeU64 } from './record-frame.js'

describe('record framing', () => {
  const payload = Buffer.from('payload')

  it('an unsalted record parses back to its type and payload; a torn or changed one does not', () => {
    const record = frameRecord(4, payload)
    expect(record.length).toBe(RECORD_HEADER_BYTES + payload.length)
    expect(record.subarray(8, 12)).toEqual(Buffer.from([4, 0, 0, 0]))
    expect(parseRecord(Buffer.concat([record, Buffer.from([1, 2])]))).toEqual({ type: 4, payload })
    expect(parseRecord(record.subarray(0, -1))).toBeUndefined()
    const changed = Buffer.from(record)
    changed.writeUInt8(changed.readUInt8(RECORD_HEADER_BYTES) ^ 1, RECORD_HEADER_BYTES)
    expect(parseRecord(changed)).toBeUndefined()
  })

  it('a salted record parses only with its own salt', () => {
    const record = frameRecord(1, payload, 0x1_0000_0005)
    expect(record.length).toBe(SALTED_RECORD_HEADER_BYTES + payload.length)
    expect(record.readUInt32LE(12)).toBe(5)
    expect(parseRecord(record, 5)).toEqual({ type: 1, payload })
    expect(parseRecord(record, 6)).toBeUndefined()
  })

  it('a u64 below 2^53 reads back as written', () => {
    const buf = Buffer.alloc(8)
    for (const value of [0, 1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      expect(writeU64(buf, value, 0)).toBe(8)
      expect(readU64(buf, 0)).toBe(value)
    }
  })
})
