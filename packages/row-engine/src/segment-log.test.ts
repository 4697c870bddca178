import { type BlockFile, frameRecord, MemoryFileSystem } from '@strata/storage'
import { withSync } from '@strata/testkit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type LogAddress, logAddress } from './address.js'
import { RecordType } from './record.js'
import { SegmentLog } from './segment-log.js'

const MiB = 1024 * 1024

/** What a scan saw, with each payload copied before the scan reads on. */
function collect(records: Iterable<{ address: LogAddress; type: number; payload: Buffer; next: LogAddress }>) {
  const out: { address: number; type: number; payload: Buffer; next: number }[] = []
  for (const r of records) out.push({ address: r.address, type: r.type, payload: Buffer.from(r.payload), next: r.next })
  return out
}

/** The same, segment by segment from each segment's whole bytes: the reference. */
function reference(log: SegmentLog, from: number) {
  const all = log.segments().flatMap((n) => collect(log.scanSegment(n, 'log')))
  return all.slice(all.findIndex((r) => r.address === from))
}

describe('SegmentLog.scan', () => {
  it('reads records across its chunks and segments as a whole-segment read does, and stops at a torn tail', () => {
    fc.assert(
      fc.property(
        // Payload sizes around the 4 MiB chunk, a few small ones, and one longer than a chunk.
        fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1 * MiB, max: 3 * MiB }), fc.integer({ min: 4 * MiB - 40, max: 4 * MiB + 40 })), { minLength: 1, maxLength: 9 }),
        fc.integer({ min: 0, max: 2 }),
        fc.boolean(),
        (sizes, skip, torn) => {
          const fs = new MemoryFileSystem()
          const log = new SegmentLog(fs, 9 * MiB)
          const addresses: LogAddress[] = []
          sizes.forEach((size, i) => {
            const record = frameRecord(RecordType.BATCH, Buffer.alloc(size, i + 1))
            addresses.push(log.append(record, 'log', log.prepare(record.length)))
          })
          if (torn) {
            // The last write was cut short: a header claiming more bytes than follow.
            const partial = frameRecord(RecordType.BATCH, Buffer.alloc(1000, 0xee)).subarray(0, 600)
            log.append(partial, 'log', log.prepare(1012))
          }
          const from = addresses[Math.min(skip, addresses.length - 1)] as LogAddress
          const seen = collect(log.scan(from, 'log'))
          expect(seen.map((r) => [r.address, r.next, r.payload.length])).toEqual(reference(log, from).map((r) => [r.address, r.next, r.payload.length]))
          expect(seen.map((r) => r.address)).toEqual(addresses.slice(addresses.indexOf(from)))
          seen.forEach((r) => {
            const i = addresses.indexOf(r.address as LogAddress)
            expect(r.payload.length).toBe(sizes[i])
            expect(r.payload.every((b) => b === i + 1)).toBe(true)
          })
        },
      ),
      { numRuns: 25 },
    )
  })

  it('reads a record whose header straddles a chunk boundary', () => {
    const fs = new MemoryFileSystem()
    const log = new SegmentLog(fs, 64 * MiB)
    // The second record's 12-byte header starts 5 bytes before the 4 MiB mark.
    const first = frameRecord(RecordType.PAGE, Buffer.alloc(4 * MiB - 5 - 12, 1))
    const second = frameRecord(RecordType.VALUE, Buffer.alloc(100, 2))
    const at = [first, second].map((r) => log.append(r, 'log', log.prepare(r.length)))
    expect(at[1]).toBe(logAddress(0, 4 * MiB - 5))
    const seen = collect(log.scan(at[0] as LogAddress, 'log'))
    expect(seen.map((r) => [r.type, r.payload.length])).toEqual([
      [RecordType.PAGE, 4 * MiB - 17],
      [RecordType.VALUE, 100],
    ])
    expect(seen[1]?.payload.every((b) => b === 2)).toBe(true)
  })
})

/** A folder whose syncs (of files and of the directory) complete only when the test says. */
class ManualSyncFileSystem extends MemoryFileSystem {
  readonly pending: { name: string; complete: () => void }[] = []

  override open(name: string, options?: { create?: boolean }): BlockFile {
    const file = super.open(name, options)
    return withSync(file, () => new Promise<void>((resolve) => this.pending.push({ name, complete: () => void file.sync().then(resolve) })))
  }

  override syncDirectory(): Promise<void> {
    return new Promise<void>((resolve) => this.pending.push({ name: '.', complete: resolve }))
  }

  /** Completes the syncs waiting now whose names `which` picks. */
  complete(which: (name: string) => boolean): void {
    for (const sync of this.pending.filter((p) => which(p.name))) {
      this.pending.splice(this.pending.indexOf(sync), 1)
      sync.complete()
    }
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('SegmentLog.sync', () => {
  it('resolves only once a sync begun before it, of an earlier segment and of the directory, has completed', async () => {
    const fs = new ManualSyncFileSystem()
    const log = new SegmentLog(fs, 4096)
    log.roll()
    log.append(frameRecord(RecordType.BATCH, Buffer.alloc(3000, 1)), 'log')
    // A background checkpoint's sync: it takes over segment 1 and the directory entry of segment 1.
    let firstDone = false
    const first = log.sync().then(() => (firstDone = true))
    // A durable commit that rolls into segment 2 while that sync is in flight.
    log.append(frameRecord(RecordType.BATCH, Buffer.alloc(3000, 2)), 'log')
    expect(log.activeSegment).toBe(2)
    let secondDone = false
    const second = log.sync().then(() => (secondDone = true))
    // Segment 2's own syncs complete; power lost now would still lose segment 1's tail.
    for (let i = 0; i < 5; i++) {
      fs.complete((name) => name !== 'seg-00000001.log')
      await settle()
    }
    expect(secondDone).toBe(false)
    while (!(firstDone && secondDone)) {
      fs.complete(() => true)
      await settle()
    }
    await Promise.all([first, second])
    expect(firstDone && secondDone).toBe(true)
    expect(log.durableEnd).toBe(log.end)
  })

  it('rejects a sync whose earlier sync failed, and takes no more appends', async () => {
    const fs = new MemoryFileSystem()
    const log = new SegmentLog(fs, 4096)
    log.roll()
    log.append(frameRecord(RecordType.BATCH, Buffer.alloc(100, 1)), 'log')
    fs.faults = (operation) => (operation === 'sync' ? { code: 'EIO', written: 0 } : undefined)
    const first = log.sync()
    fs.faults = undefined
    const second = log.sync()
    await expect(first).rejects.toMatchObject({ code: 'STRATA_IO_ERROR' })
    await expect(second).rejects.toThrow(/the log failed earlier/)
    expect(() => log.append(frameRecord(RecordType.BATCH, Buffer.alloc(10)), 'log')).toThrow(expect.objectContaining({ code: 'STRATA_IO_ERROR' }))
  })
})
