import { MemoryFileSystem } from '@strata/storage'
import { readAll } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { RowEngine } from './row-engine.js'

const key = (i: number) => Buffer.from(`key${String(i).padStart(7, '0')}`)
const small = { pageSize: 1024, segmentBytes: 64 * 1024, checkpoint: { minLogBytes: 16 * 1024, maxLogBytes: 64 * 1024 } }

describe('RowEngine named snapshots', () => {
  it('a named snapshot survives close and reopen, and a restore is durable', async () => {
    const fs = new MemoryFileSystem()
    let engine = await RowEngine.open({ fs, ...small })
    await engine.write(Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.from(`v${i}`) })))
    const info = await engine.createSnapshot('end-of-day', Buffer.from('{"by":"test"}'))
    expect(info).toMatchObject({ name: 'end-of-day', seq: 1 })
    const atSnapshot = readAll(engine)
    await engine.write(Array.from({ length: 300 }, (_, i) => ({ type: 'del' as const, key: key(i) })))
    await engine.close()
    engine = await RowEngine.open({ fs, ...small })
    expect(engine.listSnapshots().map((s) => [s.name, s.seq, s.meta.toString()])).toEqual([['end-of-day', 1, '{"by":"test"}']])
    const view = engine.openSnapshot('end-of-day')
    expect(readAll(engine, view)).toEqual(atSnapshot)
    view.release()
    expect(readAll(engine)).toEqual([])
    await engine.restoreSnapshot('end-of-day')
    expect(readAll(engine)).toEqual(atSnapshot)
    await engine.close()
    engine = await RowEngine.open({ fs, ...small })
    expect(readAll(engine)).toEqual(atSnapshot)
    expect(engine.seq).toBe(3)
    expect(engine.check()).toEqual([])
    await engine.close()
  })

  it('rejects bad and duplicate names, and unknown snapshots, with stable codes', async () => {
    const engine = await RowEngine.open({ fs: new MemoryFileSystem(), ...small })
    await engine.createSnapshot('a')
    await expect(engine.createSnapshot('a')).rejects.toMatchObject({ code: 'STRATA_SNAPSHOT_EXISTS' })
    await expect(engine.createSnapshot('')).rejects.toThrow(RangeError)
    await expect(engine.createSnapshot('x'.repeat(256))).rejects.toThrow(RangeError)
    await expect(engine.createSnapshot('bad\nname')).rejects.toThrow(RangeError)
    await expect(engine.createSnapshot(7 as unknown as string)).rejects.toThrow(TypeError)
    expect(() => engine.openSnapshot('missing')).toThrow(expect.objectContaining({ code: 'STRATA_SNAPSHOT_NOT_FOUND' }))
    await expect(engine.deleteSnapshot('missing')).rejects.toMatchObject({ code: 'STRATA_SNAPSHOT_NOT_FOUND' })
    await expect(engine.restoreSnapshot('missing')).rejects.toMatchObject({ code: 'STRATA_SNAPSHOT_NOT_FOUND' })
    await engine.deleteSnapshot('a')
    expect(engine.listSnapshots()).toEqual([])
    await engine.close()
  })

  it('a long-lived snapshot holds only what it alone references, not the churn after it', async () => {
    const engine = await RowEngine.open({ fs: new MemoryFileSystem(), ...small })
    await engine.write(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(50, 1) })))
    await engine.compact()
    const atSnapshot = engine.stats().fileBytes
    await engine.createSnapshot('kept')
    // Keys that come and go after the snapshot: none of their pages is the snapshot's.
    for (let round = 0; round < 40; round++) {
      await engine.write(Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: key(10_000 + round * 500 + i), value: Buffer.alloc(50, 2) })))
      await engine.write(Array.from({ length: 500 }, (_, i) => ({ type: 'del' as const, key: key(10_000 + round * 500 + i) })))
    }
    await engine.compact()
    const after = engine.stats()
    const [kept] = engine.listSnapshots()
    // The snapshot keeps at most the old versions of the pages the churn rewrote: about one tree.
    expect(kept?.exclusiveBytes).toBeGreaterThan(0)
    expect(kept?.exclusiveBytes).toBeLessThan(1.5 * atSnapshot)
    expect(after.fileBytes).toBeLessThan(3 * atSnapshot)
    await engine.deleteSnapshot('kept')
    await engine.compact()
    expect(engine.stats().fileBytes).toBeLessThan(1.5 * atSnapshot)
    expect(engine.check()).toEqual([])
    await engine.close()
  })

  it('diff reads a small share of the pages when two states differ in a few keys', async () => {
    const fs = new MemoryFileSystem()
    let engine = await RowEngine.open({ fs })
    for (let at = 0; at < 100_000; at += 10_000) {
      await engine.write(Array.from({ length: 10_000 }, (_, i) => ({ type: 'put' as const, key: key(at + i), value: Buffer.alloc(100, 1) })), { sync: false })
    }
    await engine.createSnapshot('a')
    await engine.write(Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: key(i * 997), value: Buffer.from('changed') })))
    await engine.createSnapshot('b')
    await engine.close()
    // Reopen, so every page the diff needs has to be read.
    engine = await RowEngine.open({ fs })
    const cost = { pagesRead: 0, nodesExpanded: 0, subtreesSkipped: 0 }
    const [a, b] = [engine.openSnapshot('a'), engine.openSnapshot('b')]
    const changes = [...engine.diff(a, b, cost)]
    expect(changes).toHaveLength(100)
    expect(changes.every((c) => c.after?.toString() === 'changed')).toBe(true)
    const pages = (engine.stats().fileBytes / 4096) | 0
    expect(cost.pagesRead).toBeLessThan(0.1 * pages)
    a.release()
    b.release()
    await engine.close()
  })
})
