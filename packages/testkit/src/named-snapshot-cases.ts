import type { SnapshotEngine } from '@strata/btree'
import { MemoryFileSystem } from '@strata/storage'
import { expect, it } from 'vitest'
import { readAll } from './engine-factory.js'

const key = (i: number) => Buffer.from(`key${String(i).padStart(7, '0')}`)

/**
 * What every engine's named snapshots promise (docs/snapshots.md): durable across reopen, restored
 * durably, names and unknown snapshots checked with stable codes, and a diff of two close states
 * that reads a small share of the pages. `open` opens the engine in `fs`, with small pages and
 * checkpoints when `small` (1 KiB pages, checkpoints every 16 to 64 KiB of log), else its defaults.
 * `name` names the engine in the log.
 */
export function namedSnapshotCases(name: string, open: (fs: MemoryFileSystem, options: { small: boolean }) => Promise<SnapshotEngine>): void {
  it('a named snapshot survives close and reopen, and a restore is durable', async () => {
    const fs = new MemoryFileSystem()
    let engine = await open(fs, { small: true })
    await engine.write(Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.from(`v${i}`) })))
    const info = await engine.createSnapshot('end-of-day', Buffer.from('{"by":"test"}'))
    expect(info).toMatchObject({ name: 'end-of-day', seq: 1 })
    const atSnapshot = readAll(engine)
    await engine.write(Array.from({ length: 300 }, (_, i) => ({ type: 'del' as const, key: key(i) })))
    await engine.close()
    engine = await open(fs, { small: true })
    expect(engine.listSnapshots().map((s) => [s.name, s.seq, s.meta.toString()])).toEqual([['end-of-day', 1, '{"by":"test"}']])
    const view = engine.openSnapshot('end-of-day')
    expect(readAll(engine, view)).toEqual(atSnapshot)
    view.release()
    expect(readAll(engine)).toEqual([])
    await engine.restoreSnapshot('end-of-day')
    expect(readAll(engine)).toEqual(atSnapshot)
    await engine.close()
    engine = await open(fs, { small: true })
    expect(readAll(engine)).toEqual(atSnapshot)
    expect(engine.seq).toBe(3)
    expect(engine.check()).toEqual([])
    await engine.close()
  })

  it('rejects bad and duplicate names, and unknown snapshots, with stable codes', async () => {
    const engine = await open(new MemoryFileSystem(), { small: true })
    await engine.createSnapshot('a')
    await expect(engine.createSnapshot('a')).rejects.toMatchObject({ code: 'STRATA_SNAPSHOT_EXISTS' })
    await expect(engine.createSnapshot('')).rejects.toThrow(RangeError)
    await expect(engine.createSnapshot('x'.repeat(256))).rejects.toThrow(RangeError)
    await expect(engine.createSnapshot('bad\nname')).rejects.toThrow(RangeError)
    await expect(engine.createSnapshot(7 as unknown as string)).rejects.toThrow(TypeError)
    await expect(engine.createSnapshot('m', 'not a buffer' as unknown as Buffer)).rejects.toThrow(TypeError)
    expect(() => engine.openSnapshot('missing')).toThrow(expect.objectContaining({ code: 'STRATA_SNAPSHOT_NOT_FOUND' }))
    await expect(engine.deleteSnapshot('missing')).rejects.toMatchObject({ code: 'STRATA_SNAPSHOT_NOT_FOUND' })
    await expect(engine.restoreSnapshot('missing')).rejects.toMatchObject({ code: 'STRATA_SNAPSHOT_NOT_FOUND' })
    await engine.deleteSnapshot('a')
    expect(engine.listSnapshots()).toEqual([])
    expect(engine.check()).toEqual([])
    await engine.close()
  })

  it('diff reads a small share of the pages when two states differ in a few keys', async () => {
    const fs = new MemoryFileSystem()
    let engine = await open(fs, { small: false })
    for (let at = 0; at < 100_000; at += 10_000) {
      await engine.write(Array.from({ length: 10_000 }, (_, i) => ({ type: 'put' as const, key: key(at + i), value: Buffer.alloc(100, 1) })), { sync: false })
    }
    await engine.createSnapshot('a')
    await engine.write(Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: key(i * 997), value: Buffer.from('changed') })))
    await engine.createSnapshot('b')
    await engine.close()
    // Reopen, so every page the diff needs has to be read.
    engine = await open(fs, { small: false })
    const cost = { pagesRead: 0, nodesExpanded: 0, subtreesSkipped: 0 }
    const [a, b] = [engine.openSnapshot('a'), engine.openSnapshot('b')]
    const changes = [...engine.diff(a, b, cost)]
    expect(changes).toHaveLength(100)
    expect(changes.every((c) => c.after?.toString() === 'changed')).toBe(true)
    const pages = (engine.stats().fileBytes / 4096) | 0
    console.log(`${name} diff of two snapshots 100 keys apart, 100,000 keys: ${cost.pagesRead} pages read of ${pages}, ${cost.subtreesSkipped} subtrees skipped`)
    expect(cost.pagesRead).toBeLessThan(0.1 * pages)
    // And from a snapshot to the head, which has moved on since.
    await engine.write([{ type: 'del', key: key(5) }])
    const toHead = [...engine.diff(b, undefined)]
    expect(toHead.map((c) => [c.key.toString(), c.after])).toEqual([[key(5).toString(), undefined]])
    a.release()
    b.release()
    expect(engine.check()).toEqual([])
    await engine.close()
  })
}
