import { MemoryFileSystem } from '@strata/storage'
import { readAll, SlowReadFileSystem } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { RowEngine } from './row-engine.js'

/**
 * Segment cleaning after policy checkpoints (docs/architecture.md §Reclamation): which segments it
 * takes, and what it reads to find what the head still uses in them.
 */

const key = (i: number) => Buffer.from(`key-${String(i).padStart(6, '0')}`)
const value = (i: number, round: number, bytes = 40) => Buffer.alloc(bytes, (i * 31 + round) % 251)

/** 1 KiB pages, 64 KiB segments, checkpoints every 16 KiB of log or more, written `slicePages` leaves a turn. */
function open(fs: MemoryFileSystem, slicePages = 8, cacheSize?: number): Promise<RowEngine> {
  return RowEngine.open({ fs, pageSize: 1024, segmentBytes: 64 * 1024, checkpoint: { minLogBytes: 16 * 1024, slicePages }, ...(cacheSize === undefined ? {} : { cacheSize }) })
}

/** Writes `rounds` rounds of overwrites of `keys` (a batch of 50 each), durable at the end of each round. */
async function overwrite(engine: RowEngine, keys: number[], rounds: number, first: number, bytes?: number): Promise<void> {
  for (let round = first; round < first + rounds; round++) {
    for (let at = 0; at < keys.length; at += 50) {
      const ops = keys.slice(at, at + 50).map((i) => ({ type: 'put' as const, key: key(i), value: value(i, round, bytes) }))
      await engine.write(ops, { sync: at + 50 >= keys.length })
    }
  }
}

function expected(keys: number[], round: (i: number) => number, bytes?: (i: number) => number): [Buffer, Buffer][] {
  return [...keys].sort((a, b) => a - b).map((i) => [key(i), value(i, round(i), bytes?.(i))])
}

/** The engine holds `want` and passes its check, closed and opened again too; closes it. */
async function holdsAcrossReopen(fs: MemoryFileSystem, engine: RowEngine, want: [Buffer, Buffer][]): Promise<void> {
  let db = engine
  for (const reopen of [true, false]) {
    expect(readAll(db)).toEqual(want)
    expect(db.check()).toEqual([])
    await db.close()
    if (reopen) db = await open(fs)
  }
}

/** Cold keys written once, then hot keys overwritten: 3,000 cold keys (0 on), 200 hot ones after them. */
const COLD = Array.from({ length: 3000 }, (_, i) => i)
const HOT = Array.from({ length: 200 }, (_, i) => 3000 + i)

describe('RowEngine segment cleaning', () => {
  it('has nothing to move when every batch overwrites every key', async () => {
    const fs = new MemoryFileSystem()
    const engine = await open(fs, 4096)
    const keys = Array.from({ length: 1500 }, (_, i) => i)
    // Every page a checkpoint writes is rewritten before the next: segments empty out by themselves.
    for (let round = 0; round < 30; round++) {
      await engine.write(keys.map((i) => ({ type: 'put' as const, key: key(i), value: value(i, round) })), { sync: round % 2 === 1 })
    }
    const stats = engine.stats()
    expect(stats.checkpoints).toBeGreaterThan(10)
    expect(stats.io.bytesWritten.reclaim).toBe(0)
    expect(stats.io.bytesRead.reclaim).toBe(0)
    // The log does not grow without bound for want of cleaning.
    expect(stats.fileBytes).toBeLessThan(8 * stats.liveBytes)
    await holdsAcrossReopen(fs, engine, expected(keys, () => 29))
  })

  it('moves cold pages out of a segment without reading it, and the segment goes', async () => {
    const fs = new MemoryFileSystem()
    const engine = await open(fs)
    await overwrite(engine, COLD, 1, 0)
    const loaded = engine.stats().io
    // The cold pages sit among batches that soon die: their segments empty out but for them.
    await overwrite(engine, HOT, 150, 1)
    const stats = engine.stats()
    expect(stats.io.bytesWritten.reclaim - loaded.bytesWritten.reclaim).toBeGreaterThan(0)
    expect(stats.io.bytesRead.reclaim).toBe(0)
    expect(stats.fileBytes).toBeLessThan(6 * stats.liveBytes)
    const want = expected([...COLD, ...HOT], (i) => (i < 3000 ? 0 : 150))
    await holdsAcrossReopen(fs, engine, want)
  })

  it('reads through, in a compaction, the segments that may hold out-of-line values, and moves them', async () => {
    const fs = new MemoryFileSystem()
    const engine = await open(fs)
    await overwrite(engine, COLD, 1, 0)
    // Ten cold keys get values too large for a 1 KiB page: VALUE records, among hot batches.
    const bytes = (i: number) => (i < 10 ? 2000 : 40)
    await overwrite(engine, HOT, 10, 1)
    await engine.write(COLD.slice(0, 10).map((i) => ({ type: 'put' as const, key: key(i), value: value(i, 0, 2000) })))
    await overwrite(engine, HOT, 40, 11)
    const before = engine.stats()
    await engine.compact()
    const stats = engine.stats()
    const read = stats.io.bytesRead.reclaim - before.io.bytesRead.reclaim
    // The segment the values went to is read through; the others' pages are found in the tree.
    expect(read).toBeGreaterThan(20_000)
    expect(read).toBeLessThan(before.fileBytes / 4)
    expect(stats.fileBytes).toBeLessThan(3 * stats.liveBytes)
    const want = expected([...COLD, ...HOT], (i) => (i < 3000 ? 0 : 50), bytes)
    await holdsAcrossReopen(fs, engine, want)
  })

  it('after a reopen, reads the pages it moves off the event loop, between the writes', async () => {
    const fs = new SlowReadFileSystem(0)
    let engine = await open(fs)
    await overwrite(engine, COLD, 1, 0)
    await overwrite(engine, HOT, 40, 1)
    await engine.close()
    // Reopened: what cleaning moves from now on is not in memory. (The cache holds the hot pages,
    // so the writes' own reads, which are synchronous, stay few.)
    engine = await open(fs, 8, 1024 * 1024)
    const before = { reads: { ...fs.reads }, io: engine.stats().io }
    await overwrite(engine, HOT, 110, 41)
    const stats = engine.stats()
    const moved = stats.io.bytesWritten.reclaim - before.io.bytesWritten.reclaim
    const blocking = fs.reads.blocking - before.reads.blocking
    const nonBlocking = fs.reads.nonBlocking - before.reads.nonBlocking
    console.log(`cleaning after a reopen: ${moved} bytes of pages moved; ${nonBlocking} reads off the event loop, ${blocking} on it`)
    // Cleaning done at once, on the write queue, read 194 pages on the event loop here and none off it.
    expect(moved).toBeGreaterThan(100_000)
    expect(nonBlocking).toBeGreaterThan(50)
    expect(blocking).toBeLessThan(nonBlocking / 2)
    expect(stats.fileBytes).toBeLessThan(6 * stats.liveBytes)
    const want = expected([...COLD, ...HOT], (i) => (i < 3000 ? 0 : 150))
    await holdsAcrossReopen(fs, engine, want)
  })

  it('after a reopen, copies out-of-line values out of the segments it cleans, reading them off the event loop', async () => {
    const fs = new SlowReadFileSystem(0)
    let engine = await open(fs)
    await overwrite(engine, COLD, 1, 0)
    // Ten cold keys get values too large for a 1 KiB page: VALUE records, among hot batches.
    const bytes = (i: number) => (i < 10 ? 2000 : 40)
    await overwrite(engine, HOT, 10, 1)
    await engine.write(COLD.slice(0, 10).map((i) => ({ type: 'put' as const, key: key(i), value: value(i, 0, 2000) })))
    // The values went to the newest segment.
    const values = fs.list().filter((name) => name.startsWith('seg-')).sort().at(-1)
    await overwrite(engine, HOT, 10, 11)
    await engine.close()
    engine = await open(fs, 8, 1024 * 1024)
    const before = { reads: { ...fs.reads }, io: engine.stats().io }
    await overwrite(engine, HOT, 100, 21)
    const stats = engine.stats()
    const read = stats.io.bytesRead.reclaim - before.io.bytesRead.reclaim
    const blocking = fs.reads.blocking - before.reads.blocking
    const nonBlocking = fs.reads.nonBlocking - before.reads.nonBlocking
    console.log(`values after a reopen: ${read} bytes of segments read through; ${nonBlocking} reads off the event loop, ${blocking} on it`)
    // Done at once on the write queue, this read 133 times on the event loop and never off it.
    expect(blocking).toBeLessThan(nonBlocking / 2)
    // Every segment found at open may hold values: those cleaned are read through, 1 MiB a read, off the thread.
    expect(read).toBeGreaterThan(20_000)
    expect(stats.fileBytes).toBeLessThan(6 * stats.liveBytes)
    // The values moved out of their segment, which went.
    expect(fs.list()).not.toContain(values)
    const want = expected([...COLD, ...HOT], (i) => (i < 3000 ? 0 : 120), bytes)
    await holdsAcrossReopen(fs, engine, want)
  })
})
