import { MemoryFileSystem } from '@strata/storage'
import { namedSnapshotCases, readAll } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { CowEngine, type CowEngineOptions } from './cow-engine.js'
import type { StoreMode } from './preimage-store.js'

const key = (i: number) => Buffer.from(`key${String(i).padStart(7, '0')}`)
const small = { pageSize: 1024, checkpoint: { minLogBytes: 16 * 1024, maxLogBytes: 64 * 1024 } }

for (const store of ['per-snapshot', 'shared'] as const) {
  const open = (fs: MemoryFileSystem, options: Partial<CowEngineOptions> = small) => CowEngine.open({ fs, store, ...options })

  describe(`CowEngine named snapshots (${store} store)`, () => {
    namedSnapshotCases(`CowEngine (${store})`, (fs, { small: isSmall }) => open(fs, isSmall ? small : {}))

    it('a long-lived snapshot keeps at most one copy of each of its pages, however long the churn after it', async () => {
      const fs = new MemoryFileSystem()
      const engine = await open(fs)
      await engine.write(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(50, 1) })))
      await engine.compact()
      const atSnapshot = engine.stats().fileBytes
      const pagesAtSnapshot = engine.stats().pageCount as number
      await engine.createSnapshot('kept')
      // Keys that come and go after the snapshot, and overwrites of the snapshot's own keys.
      for (let round = 0; round < 40; round++) {
        await engine.write(Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: key(10_000 + round * 500 + i), value: Buffer.alloc(50, 2) })))
        await engine.write(Array.from({ length: 500 }, (_, i) => ({ type: 'del' as const, key: key(10_000 + round * 500 + i) })))
        await engine.write(Array.from({ length: 50 }, (_, i) => ({ type: 'put' as const, key: key((round * 50 + i) % 2000), value: Buffer.alloc(50, round) })))
        await engine.checkpoint()
      }
      await engine.compact()
      const [kept] = engine.listSnapshots()
      // The COW promise: each page of the snapshot is copied once at most, before its first
      // overwrite, so the store holds no more than the snapshot's tree.
      expect(kept?.exclusiveBytes).toBeGreaterThan(0)
      expect(kept?.exclusiveBytes).toBeLessThanOrEqual(pagesAtSnapshot * 1024)
      expect(engine.stats().fileBytes).toBeLessThan(3 * atSnapshot)
      const view = engine.openSnapshot('kept')
      expect(readAll(engine, view).every(([, v]) => v.equals(Buffer.alloc(50, 1)))).toBe(true)
      view.release()
      await engine.deleteSnapshot('kept')
      await engine.compact()
      expect(engine.stats().preimageBytes).toBe(0)
      expect(engine.stats().fileBytes).toBeLessThan(1.5 * atSnapshot)
      expect(engine.check()).toEqual([])
      await engine.close()
      expect(fs.list().filter((name) => name.endsWith('.pre') || name === 'preimages.db')).toEqual([])
    })
  })
}

describe('CowEngine named snapshots beside readers', () => {
  for (const store of ['per-snapshot', 'shared'] as StoreMode[]) {
    it(`a handle keeps reading a snapshot deleted under it, and its copies go when it lets go (${store})`, async () => {
      const fs = new MemoryFileSystem()
      const engine = await CowEngine.open({ fs, store, ...small })
      await engine.write(Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(40, 1) })))
      await engine.createSnapshot('old')
      const handle = engine.openSnapshot('old')
      const cursor = engine.iterate({}, handle)
      await engine.deleteSnapshot('old')
      await engine.write(Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(40, 2) })))
      await engine.checkpoint()
      expect(engine.stats().preimageBytes).toBeGreaterThan(0)
      let n = 0
      for (let e = cursor.next(); e; e = cursor.next(), n++) expect(e[1]).toEqual(Buffer.alloc(40, 1))
      expect(n).toBe(500)
      cursor.close()
      handle.release()
      expect(() => engine.get(key(1), handle)).toThrow(expect.objectContaining({ code: 'LEVEL_SNAPSHOT_NOT_OPEN' }))
      expect(engine.stats().preimageBytes).toBe(0)
      expect(engine.check()).toEqual([])
      await engine.close()
    })
  }

  for (const op of ['create', 'delete', 'restore'] as const) {
    it(`a ${op} the disk refuses rejects, readers keep what they saw, and a reopen finds it done or not done`, async () => {
      const fs = new MemoryFileSystem()
      let engine = await CowEngine.open({ fs, store: 'shared', ...small })
      await engine.write(Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(40, 1) })))
      await engine.createSnapshot('s')
      await engine.write(Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(40, 2) })))
      await engine.checkpoint()
      const state = () => ({ head: readAll(engine), names: engine.listSnapshots().map((i) => i.name), seq: engine.seq })
      const before = state()
      // The operation's checkpoint gets as far as writing pages in place; their sync fails.
      fs.faults = (operation, name) => (operation === 'sync' && name === 'pages.db' ? 'EIO' : undefined)
      const run = { create: () => engine.createSnapshot('t'), delete: () => engine.deleteSnapshot('s'), restore: () => engine.restoreSnapshot('s') }[op]
      await expect(run()).rejects.toMatchObject({ code: 'STRATA_IO_ERROR' })
      fs.faults = undefined
      expect(state()).toEqual(before)
      await engine.close()
      engine = await CowEngine.open({ fs, store: 'shared', ...small })
      const after = state()
      const done = { create: after.names.includes('t'), delete: !after.names.includes('s'), restore: after.seq === before.seq + 1 }[op]
      if (!done) expect(after).toEqual(before)
      if (op === 'restore' && done) expect(after.head.every(([, v]) => v.equals(Buffer.alloc(40, 1)))).toBe(true)
      expect(engine.check()).toEqual([])
      await engine.close()
    })
  }

  it('a database keeps the store mode its named snapshots were made in', async () => {
    const fs = new MemoryFileSystem()
    let engine = await CowEngine.open({ fs, store: 'per-snapshot', ...small })
    await engine.write(Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(40, 1) })))
    await engine.createSnapshot('s')
    await engine.write(Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(40, 2) })))
    await engine.close()
    engine = await CowEngine.open({ fs, store: 'shared', ...small })
    expect(engine.storeMode).toBe('per-snapshot')
    const view = engine.openSnapshot('s')
    expect(readAll(engine, view).every(([, v]) => v.equals(Buffer.alloc(40, 1)))).toBe(true)
    view.release()
    await engine.deleteSnapshot('s')
    await engine.close()
    engine = await CowEngine.open({ fs, store: 'shared', ...small })
    expect(engine.storeMode).toBe('shared')
    expect(engine.check()).toEqual([])
    await engine.close()
  })
})
