import { linkSync, readdirSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { NodeFileSystem } from '@strata/storage'
import { keepsDataOnDisk, readAll, tempFolders } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { CowEngine } from './cow-engine.js'

const folder = tempFolders('strata-cow-')
const key = (i: number) => Buffer.from(`key${String(i).padStart(6, '0')}`)

describe('CowEngine on disk', () => {
  it('keeps data across close and reopen in a real folder, in two files', async () => {
    await keepsDataOnDisk(folder(), (fs) => CowEngine.open({ fs }), (names) => expect(names).toEqual(['pages.db', 'wal.log']))
  })

  it('gives each snapshot a store file in per-snapshot mode and deletes it on release', async () => {
    const dir = folder()
    let engine = await CowEngine.open({ fs: new NodeFileSystem(dir, { create: true }), store: 'per-snapshot' })
    await engine.write(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(50, 1) })))
    await engine.close()
    engine = await CowEngine.open({ fs: new NodeFileSystem(dir), store: 'per-snapshot' })
    const first = engine.snapshot()
    const second = engine.snapshot()
    await engine.write(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(50, 2) })))
    await engine.checkpoint()
    expect(readdirSync(dir).filter((name) => name.endsWith('.pre'))).toHaveLength(2)
    expect(engine.get(key(1999), first)).toEqual(Buffer.alloc(50, 1))
    first.release()
    expect(readdirSync(dir).filter((name) => name.endsWith('.pre'))).toHaveLength(1)
    expect(readAll(engine, second).every(([, v]) => v.equals(Buffer.alloc(50, 1)))).toBe(true)
    expect(engine.check()).toEqual([])
    await engine.close()
    expect(readdirSync(dir).sort()).toEqual(['pages.db', 'wal.log'])
  })

  it('counts the bytes of files hard-linked into another folder as shared, and the rest as owned', async () => {
    const dir = folder()
    const other = folder()
    const engine = await CowEngine.open({ fs: new NodeFileSystem(dir, { create: true }), store: 'per-snapshot' })
    await engine.write(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(50, 1) })))
    const snapshot = engine.snapshot()
    await engine.write(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(50, 2) })))
    await engine.checkpoint()
    expect(engine.stats()).toMatchObject({ sharedBytes: 0, ownedBytes: engine.stats().fileBytes })
    const linked = ['pages.db', ...readdirSync(dir).filter((name) => name.endsWith('.pre'))]
    expect(linked).toHaveLength(2)
    for (const name of linked) linkSync(join(dir, name), join(other, name))
    const linkedBytes = linked.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0)
    const stats = engine.stats()
    expect(stats.sharedBytes).toBe(linkedBytes)
    expect(stats.ownedBytes).toBe(stats.fileBytes - linkedBytes)
    for (const name of linked) unlinkSync(join(other, name))
    expect(engine.stats().sharedBytes).toBe(0)
    snapshot.release()
    await engine.close()
    // With its files closed it no longer asks them, and stats() still does not throw (errors.md).
    expect(() => engine.stats()).not.toThrow()
  })
})
