import { describe, expect, it } from 'vitest'
import { EntryArena, entryKey, entryValue } from './leaf-entry.js'

describe('EntryArena', () => {
  it('doubles its chunks from the first size to the largest, gives a longer entry a chunk of its own, and never moves an entry', () => {
    const arena = new EntryArena(1024, 8192)
    const sizes: number[] = []
    const written: [Buffer, number, number][] = []
    for (let i = 0; i < 400; i++) {
      const [src, off] = arena.add(Buffer.from(`key ${i}`), Buffer.alloc(90, i))
      written.push([src, off, i])
      if (sizes.at(-1) !== arena.chunkBytes || off === 0) sizes.push(arena.chunkBytes)
    }
    expect(sizes.slice(0, 5)).toEqual([1024, 2048, 4096, 8192, 8192])
    arena.add(Buffer.from('long'), Buffer.alloc(20_000, 7))
    expect(arena.chunkBytes).toBe(20_000 + 7 + 4)
    for (const [src, off, i] of written) {
      expect(entryKey(src, off).toString()).toBe(`key ${i}`)
      expect(entryValue(src, off)).toEqual(Buffer.alloc(90, i))
    }
  })
})
