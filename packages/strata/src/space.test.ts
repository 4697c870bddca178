import { MemoryFileSystem } from '@strata/storage'
import { describe, expect, it } from 'vitest'
import { StrataLevel } from './strata-level.js'

/**
 * Space without the user's help (docs/architecture.md §Space policy), with the engines' defaults:
 * the files stay within max(1.5 × live bytes, live bytes + 8 MiB) beside what named snapshots
 * alone keep, and `compactRange` / `approximateSize` behave as classic-level's.
 */

const MiB = 2 ** 20
const key = (i: number) => `key-${String(i).padStart(10, '0')}`

/** The space bound of a database with `liveBytes` of keys and values, at the default `minLogBytes`. */
const bound = (liveBytes: number) => Math.max(1.5 * liveBytes, liveBytes + 8 * MiB)

async function overwrite(db: StrataLevel<string, Buffer>, keys: number, round: number): Promise<void> {
  for (let at = 0; at < keys; at += 1000) {
    await db.batch(Array.from({ length: 1000 }, (_, i) => ({ type: 'put' as const, key: key(at + i), value: Buffer.alloc(100, (at + i + round) % 251) })))
  }
}

describe('StrataLevel space', () => {
  for (const engine of ['row', 'cow'] as const) {
    it(`ends 50,000 keys overwritten five times in batches of 1,000 within the space bound (${engine})`, async () => {
      const db = new StrataLevel<string, Buffer>('space', { fs: new MemoryFileSystem(), engine, valueEncoding: 'buffer' })
      await db.open()
      for (let round = 0; round <= 5; round++) await overwrite(db, 50_000, round)
      const { fileBytes, liveBytes } = db.stats()
      expect(liveBytes).toBe(50_000 * (14 + 100))
      expect(fileBytes).toBeLessThanOrEqual(bound(liveBytes))
      expect(await db.get(key(49_999))).toEqual(Buffer.alloc(100, (49_999 + 5) % 251))
      await db.close()
    })
  }

  it('a safety snapshot before compactRange makes the files no larger, and what it keeps is what deleting it frees', async () => {
    const db = new StrataLevel<string, Buffer>('space', { fs: new MemoryFileSystem(), valueEncoding: 'buffer' })
    await db.open()
    await overwrite(db, 20_000, 0)
    await overwrite(db, 20_000, 1)
    await db.snapshots.create('safety')
    const before = db.stats().fileBytes
    await db.compactRange(key(0), key(20_000))
    expect(db.stats().fileBytes).toBeLessThanOrEqual(before)
    // Overwrite everything: the snapshot then keeps a whole tree the head no longer uses.
    await overwrite(db, 20_000, 2)
    await db.compactRange(key(0), key(20_000))
    const [safety] = db.snapshots.list()
    const kept = safety?.exclusiveBytes ?? 0
    expect(kept).toBeGreaterThan(20_000 * (14 + 100))
    const withSnapshot = db.stats().fileBytes
    await db.snapshots.delete('safety')
    await db.compactRange(key(0), key(20_000))
    const freed = withSnapshot - db.stats().fileBytes
    expect(Math.abs(freed - kept)).toBeLessThan(0.1 * kept)
    await db.close()
  })

  it('approximateSize gives the bytes of a range, in proportion to its entries', async () => {
    const db = new StrataLevel<string, Buffer>('space', { fs: new MemoryFileSystem(), valueEncoding: 'buffer' })
    await db.open()
    await overwrite(db, 10_000, 0)
    const all = await db.approximateSize(key(0), key(10_000))
    const tenth = await db.approximateSize(key(0), key(1000))
    expect(all).toBeGreaterThanOrEqual(10_000 * (14 + 100))
    expect(all).toBeLessThanOrEqual(db.stats().fileBytes)
    expect(tenth).toBeGreaterThan(0.09 * all)
    expect(tenth).toBeLessThan(0.11 * all)
    expect(await db.approximateSize(key(5000), key(5000))).toBe(0)
    expect(await db.approximateSize('zzz', 'zzzz')).toBe(0)
    // Keys encoded with another encoding for the call, as classic-level allows.
    expect(await db.approximateSize(Buffer.from(key(0)), Buffer.from(key(1000)), { keyEncoding: 'buffer' })).toBe(tenth)
    await db.close()
  })

  it('compactRange and approximateSize wait for the open, and reject without both bounds or on a closing or closed database', async () => {
    const db = new StrataLevel<string, Buffer>('space', { fs: new MemoryFileSystem(), valueEncoding: 'buffer' })
    // Called while the database opens: deferred until it is open.
    await expect(db.approximateSize('a', 'b')).resolves.toBe(0)
    await expect(db.compactRange('a', 'b')).resolves.toBeUndefined()
    await expect((db.compactRange as (start: string) => Promise<void>)('a')).rejects.toThrow(TypeError)
    await expect((db.approximateSize as (start: string) => Promise<number>)('a')).rejects.toThrow(TypeError)
    expect(db.supports.additionalMethods).toMatchObject({ compactRange: true, approximateSize: true })
    // Called while the database closes: rejected, as classic-level does.
    const closing = db.close()
    await expect(db.compactRange('a', 'b')).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' })
    await expect(db.approximateSize('a', 'b')).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' })
    await closing
    await expect(db.compactRange('a', 'b')).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' })
    await expect(db.approximateSize('a', 'b')).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' })
  })
})
