import { RowEngine } from '@strata/row-engine'
import { MemoryFileSystem } from '@strata/storage'
import { readAll } from '@strata/testkit'
import { describe, expect, it, vi } from 'vitest'
import { SnapshotManager } from './snapshot-manager.js'

const put = (key: string, value: string) => ({ type: 'put' as const, key: Buffer.from(key), value: Buffer.from(value) })

describe('SnapshotManager', () => {
  it('retention by age deletes old snapshots when a new one is made, never the new one', async () => {
    const engine = await RowEngine.open({ fs: new MemoryFileSystem() })
    const manager = new SnapshotManager(engine, { maxAge: 60_000 })
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z'), toFake: ['Date'] })
    try {
      await manager.create('monday', { meta: { day: 1 } })
      vi.setSystemTime(new Date('2026-01-01T00:00:30Z'))
      await engine.write([put('k', 'v')])
      await manager.create('tuesday')
      expect(manager.list().map((s) => s.name)).toEqual(['monday', 'tuesday'])
      vi.setSystemTime(new Date('2026-01-01T00:01:10Z'))
      await manager.create('wednesday')
      expect(manager.list().map((s) => [s.name, s.meta])).toEqual([
        ['tuesday', undefined],
        ['wednesday', undefined],
      ])
    } finally {
      vi.useRealTimers()
      await engine.close()
    }
  })

  it('rejects a retention policy that makes no sense', async () => {
    const engine = await RowEngine.open({ fs: new MemoryFileSystem() })
    expect(() => new SnapshotManager(engine, { keepLast: 1.5 })).toThrow(RangeError)
    expect(() => new SnapshotManager(engine, { maxAge: -1 })).toThrow(RangeError)
    expect(() => new SnapshotManager(engine, { keeplast: 1 } as never)).toThrow(TypeError)
    expect(() => new SnapshotManager(engine, { maxAge: '1h' } as never)).toThrow(TypeError)
    await engine.close()
  })

  it('exports a snapshot while writes go on, as a compact database of its own', async () => {
    const engine = await RowEngine.open({ fs: new MemoryFileSystem() })
    await engine.write(Array.from({ length: 2500 }, (_, i) => put(`key${String(i).padStart(5, '0')}`, `v${i}`)))
    const manager = new SnapshotManager(engine)
    await manager.create('backup')
    const atSnapshot = readAll(engine)
    const target = new MemoryFileSystem()
    const writing = (async () => {
      for (let i = 0; i < 50; i++) await engine.write([put(`key${String(i).padStart(5, '0')}`, 'later')])
    })()
    const result = await manager.export('backup', 'elsewhere', () => RowEngine.open({ fs: target, errorIfExists: true }))
    await writing
    expect(result.entries).toBe(2500)
    const copy = await RowEngine.open({ fs: target })
    expect(readAll(copy)).toEqual(atSnapshot)
    expect(copy.check()).toEqual([])
    await copy.close()
    await engine.close()
  })
})
