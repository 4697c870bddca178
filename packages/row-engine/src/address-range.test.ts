import { type PageAddress, spill, Tree } from '@strata/btree'
import { frameRecord, MemoryFileSystem, RECORD_HEADER_BYTES, sealRecord } from '@strata/storage'
import { readAll } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { LAST_SEGMENT, offsetOf, segmentOf } from './address.js'
import { encodeCheckpoint } from './checkpoint-record.js'
import { MetaFile } from './meta.js'
import { RecordType } from './record.js'
import { RowEngine } from './row-engine.js'
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

/**
 * An empty database whose log starts at segment `first`, written as creation writes one (an
 * empty root page and the first checkpoint, then META): a database that has rolled that many
 * segments in its life, without writing them all.
 */
async function databaseStartingAt(fs: MemoryFileSystem, first: number, options: { pageSize: number; segmentBytes: number }): Promise<void> {
  fs.open(segmentName(first - 1), { create: true }).close()
  const log = new SegmentLog(fs, options.segmentBytes)
  log.roll()
  log.remove(first - 1)
  const none = () => {
    throw new Error('a new tree has no pages to read')
  }
  const root = new Tree({ pageSize: options.pageSize, loadNode: none, readValue: none }, { rewritten() {}, removed() {}, valueRemoved() {} }).root
  const pages: Buffer[] = []
  let rootAddress = 0
  spill(
    root,
    (_node, framed) => {
      pages.push(sealRecord(framed, RecordType.PAGE))
      rootAddress = log.end + RECORD_HEADER_BYTES
      return rootAddress as PageAddress
    },
    RECORD_HEADER_BYTES,
  )
  const page = pages[0] as Buffer
  const checkpoint = frameRecord(RecordType.CHECKPOINT, encodeCheckpoint({ seq: 0, root: rootAddress, dataBytes: 0, live: new Map([[first, page.length]]), snapshots: [], held: [] }))
  const start = log.append(Buffer.concat([page, checkpoint]), 'meta')
  await log.sync()
  log.close()
  ;(await MetaFile.create(fs, { generation: 0, pageSize: options.pageSize, segmentBytes: options.segmentBytes, checkpoint: start + page.length, checkpointSeq: 0 })).close()
}

describe('a ROW database at the end of its address range', () => {
  it('refuses the write that needs a segment past the last with STRATA_LOG_FULL, and keeps every acknowledged one', async () => {
    const fs = new MemoryFileSystem()
    const options = { pageSize: 1024, segmentBytes: 4096, checkpoint: { minLogBytes: 1024, maxLogBytes: 4096 } }
    await databaseStartingAt(fs, LAST_SEGMENT - 3, options)
    let engine = await RowEngine.open({ fs, ...options })
    const key = (i: number) => Buffer.from(`key${String(i).padStart(5, '0')}`)
    const written: [Buffer, Buffer][] = []
    let refused: unknown
    for (let i = 0; i < 10_000 && refused === undefined; i++) {
      const value = Buffer.alloc(200, i % 251)
      try {
        await engine.write([{ type: 'put', key: key(i), value }])
        written.push([key(i), value])
      } catch (error) {
        refused = error
      }
    }
    expect(refused).toMatchObject({ code: 'STRATA_LOG_FULL' })
    expect(Math.max(...fs.list().map((name) => Number(/\d+/.exec(name)?.[0] ?? 0)))).toBe(LAST_SEGMENT)
    // Nothing aliased: every acknowledged write reads back, now and after a reopen.
    expect(readAll(engine)).toEqual(written)
    await engine.close().catch((error: unknown) => expect(error).toMatchObject({ code: 'STRATA_LOG_FULL' }))
    engine = await RowEngine.open({ fs, ...options, readOnly: true })
    expect(readAll(engine)).toEqual(written)
    expect(engine.check()).toEqual([])
    await engine.close()
  })
})
