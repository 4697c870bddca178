import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeFileSystem } from '@strata/storage'
import { readAll } from '@strata/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { CowEngine } from './cow-engine.js'

const folders: string[] = []
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
})
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-cow-'))
  folders.push(dir)
  return dir
}
const key = (i: number) => Buffer.from(`key${String(i).padStart(6, '0')}`)

describe('CowEngine on disk', () => {
  it('keeps data across close and reopen in a real folder, in two files', async () => {
    const dir = folder()
    let engine = await CowEngine.open({ fs: new NodeFileSystem(dir, { create: true }) })
    for (let b = 0; b < 20; b++) {
      await engine.write(Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: key(b * 500 + i), value: Buffer.alloc(100, b) })))
    }
    await engine.write([{ type: 'put', key: key(0), value: Buffer.alloc(20_000, 9) }])
    await engine.close()
    expect(readdirSync(dir).sort()).toEqual(['pages.db', 'wal.log'])
    engine = await CowEngine.open({ fs: new NodeFileSystem(dir) })
    expect(readAll(engine)).toHaveLength(10_000)
    expect(engine.get(key(9_999))).toEqual(Buffer.alloc(100, 19))
    expect(engine.get(key(0))).toEqual(Buffer.alloc(20_000, 9))
    expect(engine.check()).toEqual([])
    await engine.close()
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
