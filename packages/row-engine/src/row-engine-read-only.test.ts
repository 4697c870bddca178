import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { NodeFileSystem } from '@strata/storage'
import { filesOf, readAll, tempFolders } from '@strata/testkit'
import { describe, expect, it } from 'vitest'
import { RowEngine } from './row-engine.js'

const folder = tempFolders('strata-read-only-')
const key = (i: number) => Buffer.from(`key${String(i).padStart(6, '0')}`)

/** A database as a crash leaves it: 100 commits after the last checkpoint, then a torn record. */
async function crashedDatabase(): Promise<string> {
  const dir = folder()
  const engine = await RowEngine.open({ fs: new NodeFileSystem(dir, { create: true }), checkpoint: { minLogBytes: 1 << 30 } })
  for (let i = 0; i < 100; i++) await engine.write([{ type: 'put', key: key(i), value: Buffer.from(`v${i}`) }])
  const image = folder()
  for (const name of readdirSync(dir)) if (name !== 'LOCK') cpSync(join(dir, name), join(image, name))
  await engine.close()
  appendFileSync(join(image, 'seg-00000001.log'), Buffer.from([0x10, 0x00, 0x00, 0x00, 0x55, 0x66, 0x77]))
  return image
}

describe('RowEngine opened read-only', () => {
  it('refuses a folder without a database and creates nothing in it', async () => {
    const dir = folder()
    await expect(RowEngine.open({ fs: new NodeFileSystem(dir), readOnly: true })).rejects.toMatchObject({ code: 'STRATA_DATABASE_NOT_FOUND' })
    expect(readdirSync(dir)).toEqual([])
  })

  it('recovers the head in memory and leaves every file byte for byte as it was', async () => {
    const dir = await crashedDatabase()
    const before = filesOf(dir)
    const engine = await RowEngine.open({ fs: new NodeFileSystem(dir), readOnly: true })
    expect(engine.seq).toBe(100)
    expect(engine.get(key(99))?.toString()).toBe('v99')
    const snapshot = engine.snapshot()
    expect(readAll(engine, snapshot)).toHaveLength(100)
    snapshot.release()
    expect(engine.check()).toEqual([])
    await engine.close()
    expect(filesOf(dir)).toEqual(before)

    // A writable open, by contrast, cuts the torn tail and checkpoints on close.
    const writable = await RowEngine.open({ fs: new NodeFileSystem(dir) })
    await writable.close()
    expect(filesOf(dir)).not.toEqual(before)
  })

  it('rejects writes and compaction with LEVEL_READONLY', async () => {
    const dir = await crashedDatabase()
    const engine = await RowEngine.open({ fs: new NodeFileSystem(dir), readOnly: true })
    await expect(engine.write([{ type: 'put', key: key(1), value: Buffer.from('x') }])).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
    await expect(engine.write([])).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
    await expect(engine.compact()).rejects.toMatchObject({ code: 'LEVEL_READONLY' })
    expect(engine.get(key(1))?.toString()).toBe('v1')
    await engine.close()
  })

  it('still takes the lock', async () => {
    const dir = await crashedDatabase()
    const engine = await RowEngine.open({ fs: new NodeFileSystem(dir), readOnly: true })
    await expect(RowEngine.open({ fs: new NodeFileSystem(dir), readOnly: true })).rejects.toMatchObject({ code: 'LEVEL_LOCKED' })
    await engine.close()
    expect(existsSync(join(dir, 'LOCK'))).toBe(false)
  })

  it('leaves a segment a crash kept from being removed, which a writable open removes', async () => {
    const dir = folder()
    const engine = await RowEngine.open({ fs: new NodeFileSystem(dir, { create: true }), segmentBytes: 4096 })
    for (let b = 0; b < 10; b++) {
      await engine.write(Array.from({ length: 20 }, (_, i) => ({ type: 'put' as const, key: key(b * 20 + i), value: Buffer.alloc(50, b) })))
    }
    const first = readFileSync(join(dir, 'seg-00000001.log'))
    await engine.compact()
    await engine.close()
    expect(existsSync(join(dir, 'seg-00000001.log'))).toBe(false)
    appendFileSync(join(dir, 'seg-00000001.log'), first)
    const before = filesOf(dir)

    const reader = await RowEngine.open({ fs: new NodeFileSystem(dir), readOnly: true })
    expect(readAll(reader)).toHaveLength(200)
    expect(reader.check()).toEqual([])
    await reader.close()
    expect(filesOf(dir)).toEqual(before)

    const writer = await RowEngine.open({ fs: new NodeFileSystem(dir) })
    await writer.close()
    expect(existsSync(join(dir, 'seg-00000001.log'))).toBe(false)
  })
})
