import { readdirSync } from 'node:fs'
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
})
