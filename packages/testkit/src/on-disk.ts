import { readdirSync } from 'node:fs'
import type { Engine } from '@strata/btree'
import { NodeFileSystem } from '@strata/storage'
import { expect } from 'vitest'
import { readAll } from './engine-factory.js'

const key = (i: number) => Buffer.from(`key${String(i).padStart(6, '0')}`)

/**
 * Writes 10,000 entries and one large value into the empty real folder `dir`, closes, hands the
 * names of the files left to `expectFiles`, then reopens and reads them all back, ending with a
 * sound `check()`. `open` opens the engine under test; `create` lets it make the folder.
 */
export async function keepsDataOnDisk(dir: string, open: (fs: NodeFileSystem) => Promise<Engine>, expectFiles: (names: string[]) => void): Promise<void> {
  let engine = await open(new NodeFileSystem(dir, { create: true }))
  for (let b = 0; b < 20; b++) {
    await engine.write(Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: key(b * 500 + i), value: Buffer.alloc(100, b) })))
  }
  await engine.write([{ type: 'put', key: key(0), value: Buffer.alloc(20_000, 9) }])
  await engine.close()
  expectFiles(readdirSync(dir).sort())
  engine = await open(new NodeFileSystem(dir))
  expect(readAll(engine)).toHaveLength(10_000)
  expect(engine.get(key(9_999))).toEqual(Buffer.alloc(100, 19))
  expect(engine.get(key(0))).toEqual(Buffer.alloc(20_000, 9))
  expect(engine.check()).toEqual([])
  await engine.close()
}
