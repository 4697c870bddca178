import type { SnapshotEngine } from '@strata/btree'
import { MemoryFileSystem } from '@strata/storage'
import { expect, it } from 'vitest'
import { readAll } from './engine-factory.js'

const key = (i: number) => Buffer.from(`key-${String(i).padStart(6, '0')}`)
const value = (i: number, bytes = 40) => Buffer.alloc(bytes, i % 251)

/**
 * What every engine's group commit promises (docs/architecture.md §Group commit): batches written
 * while the engine is busy share an append and a sync, each stays whole and in its order, a write
 * issued after a named snapshot stays out of it, a batch that is not valid fails alone, and a
 * failed sync fails its whole group, none of it visible. `open` opens the engine in `fs` with small
 * pages and checkpoints.
 */
export function groupCommitCases(open: (fs: MemoryFileSystem) => Promise<SnapshotEngine>): void {
  it('commits durable writers in flight together: far fewer syncs than batches, every batch whole and in order', async () => {
    const fs = new MemoryFileSystem()
    const engine = await open(fs)
    const before = engine.stats().io.syncs
    // 400 writers at once, each a batch of two keys; writer i also overwrites key 0, so the last
    // writer's value must win.
    await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        engine.write([
          { type: 'put', key: key(i + 1), value: value(i) },
          { type: 'put', key: key(0), value: value(i) },
        ]),
      ),
    )
    const syncs = engine.stats().io.syncs - before
    expect(syncs).toBeGreaterThan(0)
    expect(syncs).toBeLessThan(100)
    const want: [Buffer, Buffer][] = [[key(0), value(399)], ...Array.from({ length: 400 }, (_, i): [Buffer, Buffer] => [key(i + 1), value(i)])]
    expect(readAll(engine)).toEqual(want)
    await engine.close()
    const reopened = await open(fs)
    expect(readAll(reopened)).toEqual(want)
    expect(reopened.seq).toBe(400)
    await reopened.close()
  })

  it('keeps a write issued after a named snapshot out of it, however the writes group', async () => {
    const engine = await open(new MemoryFileSystem())
    const first = engine.write([{ type: 'put', key: key(1), value: value(1) }])
    const named = engine.createSnapshot('between')
    const second = engine.write([{ type: 'put', key: key(2), value: value(2) }])
    await Promise.all([first, named, second])
    const view = engine.openSnapshot('between')
    expect(readAll(engine, view).map(([k]) => k.toString())).toEqual(['key-000001'])
    view.release()
    expect(readAll(engine).map(([k]) => k.toString())).toEqual(['key-000001', 'key-000002'])
    await engine.close()
  })

  it('fails a batch that is not valid alone, and commits the others of its group', async () => {
    const engine = await open(new MemoryFileSystem())
    const results = await Promise.allSettled([
      engine.write([{ type: 'put', key: key(1), value: value(1) }]),
      engine.write([{ type: 'put', key: 'not a buffer' as unknown as Buffer, value: value(2) }]),
      engine.write([{ type: 'put', key: key(3), value: value(3) }]),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(readAll(engine).map(([k]) => k.toString())).toEqual(['key-000001', 'key-000003'])
    await engine.close()
  })

  it('fails every batch of a group whose sync fails: none is visible, and each acknowledged one survives a reopen', async () => {
    const fs = new MemoryFileSystem()
    const engine = await open(fs)
    await engine.write([{ type: 'put', key: key(0), value: value(0) }])
    // The first group's sync is held until the others wait behind it, then the second group's fails.
    let syncs = 0
    let release = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    fs.faults = (operation, name) => {
      if (operation !== 'sync' || name === '.') return undefined
      return ++syncs === 2 ? 'EIO' : undefined
    }
    fs.observer = { write() {}, truncate() {}, create() {}, remove() {}, sync: (name) => (name !== '.' && syncs === 1 ? held : undefined) }
    const writes = [engine.write([{ type: 'put', key: key(1), value: value(1) }])]
    while (syncs === 0) await new Promise((resolve) => setImmediate(resolve))
    for (let i = 2; i <= 20; i++) writes.push(engine.write([{ type: 'put', key: key(i), value: value(i) }]))
    release()
    const results = await Promise.allSettled(writes)
    fs.faults = undefined
    fs.observer = undefined
    const acknowledged = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i + 1] : []))
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i + 1] : []))
    // Writer 1 syncs alone; the 19 behind it form one group, whose sync fails.
    expect(acknowledged).toEqual([1])
    expect(failed).toHaveLength(19)
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'STRATA_IO_ERROR' })
    // None of the failed group is visible; later writes are refused until a reopen.
    for (const i of failed) expect(engine.get(key(i))).toBeUndefined()
    await expect(engine.write([{ type: 'put', key: key(99), value: value(99) }])).rejects.toMatchObject({ code: 'STRATA_IO_ERROR' })
    await engine.close().catch(() => undefined)
    const reopened = await open(fs)
    for (const i of [0, ...acknowledged]) expect(reopened.get(key(i))).toEqual(value(i))
    expect(reopened.check()).toEqual([])
    await reopened.close()
  })
}
