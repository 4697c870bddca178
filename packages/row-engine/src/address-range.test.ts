import { MemoryFileSystem } from '@strata/storage'
import { describe, expect, it } from 'vitest'
import { LAST_SEGMENT, offsetOf, segmentOf } from './address.js'
import { frameRecord, RecordType } from './record.js'
import { SegmentLog, segmentName } from './segment-log.js'

/** A log whose newest segment file is `segment`, as a database that has rolled that many segments has. */
function logEndingAt(segment: number): { fs: MemoryFileSystem; log: SegmentLog } {
  const fs = new MemoryFileSystem()
  fs.open(segmentName(segment), { create: true }).close()
  return { fs, log: new SegmentLog(fs, 4096) }
}

const record = frameRecord(RecordType.BATCH, Buffer.alloc(3000, 7))

describe('the log address range', () => {
  it('fills the last addressable segment, then refuses the next with STRATA_LOG_FULL and writes nothing', () => {
    const { fs, log } = logEndingAt(LAST_SEGMENT - 1)
    const addresses = [log.append(record, 'log'), log.append(record, 'log')]
    // Every address it gave names its own segment and offset exactly.
    expect(addresses.map((a) => [segmentOf(a), offsetOf(a)])).toEqual([
      [LAST_SEGMENT - 1, 0],
      [LAST_SEGMENT, 0],
    ])
    expect(() => log.append(record, 'log')).toThrow(expect.objectContaining({ code: 'STRATA_LOG_FULL' }))
    expect(() => log.roll()).toThrow(expect.objectContaining({ code: 'STRATA_LOG_FULL' }))
    // Nothing was written or created, and the log still takes what fits in its last segment.
    expect(fs.list()).toEqual([segmentName(LAST_SEGMENT - 1), segmentName(LAST_SEGMENT)])
    expect(log.broken).toBeUndefined()
    const small = frameRecord(RecordType.BATCH, Buffer.alloc(10, 1))
    expect(offsetOf(log.append(small, 'log'))).toBe(record.length)
    expect(log.readRecord(addresses[1] as number, 'log').payload).toEqual(Buffer.alloc(3000, 7))
  })

  it('refuses an append larger than one segment can address, before it starts a segment for it', () => {
    const { fs, log } = logEndingAt(5)
    log.append(record, 'log')
    expect(() => log.prepare(2 ** 32 + 1)).toThrow(expect.objectContaining({ code: 'STRATA_LOG_FULL' }))
    expect(log.activeSegment).toBe(5)
    expect(fs.list()).toEqual([segmentName(5)])
  })
})
