import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryFileData, MemoryFileSystem } from './memory-file-system.js'
import { NodeFileSystem } from './node-file-system.js'
import { OverlayFileSystem } from './overlay-file-system.js'

const folders: string[] = []
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true })
})
function tempFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-overlay-'))
  folders.push(dir)
  return dir
}

/** A deterministic stream of integers in [0, n). */
function randomInts(seed: number): (n: number) => number {
  let s = seed
  return (n) => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) % n
  }
}

describe('overlay file system', () => {
  it('reads a file as the writes and truncations made through it left it, and never changes the folder', () => {
    const folder = new MemoryFileSystem()
    const original = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 7) % 251))
    folder.open('data', { create: true }).write(0, original, 'page')
    const overlay = new OverlayFileSystem(folder)
    const file = overlay.open('data')
    // The model: the same operations on a plain in-memory file.
    const model = new MemoryFileData(Buffer.from(original))
    const random = randomInts(12345)
    for (let step = 0; step < 400; step++) {
      const roll = random(10)
      if (roll < 6) {
        const offset = random(model.length + 6000)
        const bytes = Buffer.alloc(1 + random(9000), step % 256)
        const parts = random(2) === 0 ? bytes : [bytes.subarray(0, bytes.length >> 1), bytes.subarray(bytes.length >> 1)]
        file.write(offset, parts, 'page')
        model.write(offset, bytes)
      } else if (roll < 8) {
        const size = random(model.length + 5000)
        file.truncate(size)
        model.truncate(size)
      } else {
        const offset = random(model.length + 100)
        const length = random(10_000)
        const expected = model.snapshot().subarray(Math.min(offset, model.length), Math.min(offset + length, model.length))
        expect(file.read(offset, length, 'page').toString('hex')).toBe(expected.toString('hex'))
      }
      expect(file.size()).toBe(model.length)
    }
    expect(file.read(0, model.length, 'page').toString('hex')).toBe(model.snapshot().toString('hex'))
    expect(folder.files.get('data')?.snapshot()).toEqual(original)
    expect(folder.io.bytesWritten.page).toBe(original.length)
  })

  it('keeps changes after the handles that made them close', () => {
    const folder = new MemoryFileSystem()
    folder.open('data', { create: true }).write(0, Buffer.from('on disk'), 'log')
    const overlay = new OverlayFileSystem(folder)
    const writer = overlay.open('data')
    writer.write(3, Buffer.from('-memory'), 'log')
    writer.close()
    expect(overlay.open('data').read(0, 100, 'log').toString()).toBe('on -memory')
    expect(folder.files.get('data')?.snapshot().toString()).toBe('on disk')
  })

  it('creates and removes files in memory only', () => {
    const folder = new MemoryFileSystem()
    folder.open('kept', { create: true }).write(0, Buffer.from('kept'), 'meta')
    folder.open('gone', { create: true }).write(0, Buffer.from('gone'), 'meta')
    const overlay = new OverlayFileSystem(folder)
    overlay.open('new', { create: true }).write(0, Buffer.from('new'), 'meta')
    overlay.remove('gone')
    expect(overlay.list()).toEqual(['kept', 'new'])
    expect([overlay.exists('gone'), overlay.exists('new'), overlay.exists('kept')]).toEqual([false, true, true])
    expect(() => overlay.open('gone')).toThrow(expect.objectContaining({ code: 'ENOENT' }))
    expect(() => overlay.open('missing')).toThrow(expect.objectContaining({ code: 'ENOENT' }))
    // Made again, a removed file starts empty.
    expect(overlay.open('gone', { create: true }).size()).toBe(0)
    expect(folder.list()).toEqual(['gone', 'kept'])
    expect(folder.files.get('gone')?.snapshot().toString()).toBe('gone')
  })

  it('takes the folder’s lock, and writes, syncs and removes nothing in a real folder', async () => {
    const dir = tempFolder()
    writeFileSync(join(dir, 'pages.db'), Buffer.alloc(8192, 3))
    const overlay = new OverlayFileSystem(new NodeFileSystem(dir))
    overlay.lock()
    expect(() => new NodeFileSystem(dir).lock()).toThrow(expect.objectContaining({ code: 'LEVEL_LOCKED' }))
    const file = overlay.open('pages.db')
    file.write(4096, Buffer.alloc(4096, 9), 'page')
    file.truncate(6000)
    await file.sync()
    overlay.open('wal.log', { create: true }).write(0, Buffer.alloc(32, 1), 'meta')
    overlay.remove('pages.db')
    await overlay.syncDirectory()
    expect(file.read(4000, 200, 'page')).toEqual(Buffer.concat([Buffer.alloc(96, 3), Buffer.alloc(104, 9)]))
    file.close()
    expect(readdirSync(dir).sort()).toEqual(['LOCK', 'pages.db'])
    expect(readFileSync(join(dir, 'pages.db'))).toEqual(Buffer.alloc(8192, 3))
    expect(overlay.io.report()).toMatchObject({ totalWritten: 0, syncs: 0 })
    overlay.unlock()
    expect(readdirSync(dir)).toEqual(['pages.db'])
  })
})
