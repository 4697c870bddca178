import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryFileSystem } from '@strata/storage'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StrataLevel } from './strata-level.js'

const key = (i: number) => `key${String(i).padStart(4, '0')}`

/** Attaches a handler at once, so a promise that rejects while the test awaits something else is not an unhandled rejection. */
function settled<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return Promise.allSettled([promise]).then(([result]) => result as PromiseSettledResult<T>)
}

for (const engine of ['row', 'cow'] as const) {
  describe(`StrataLevel (${engine}) closing with work in flight`, () => {
    let root: string

    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'strata-close-'))
    })

    afterEach(() => {
      rmSync(root, { recursive: true, force: true })
    })

    it('reads, writes and iterator reads made before close() finish with their results; those made after it fail with LEVEL_DATABASE_NOT_OPEN or LEVEL_ITERATOR_NOT_OPEN', async () => {
      const location = join(root, 'db')
      const db = new StrataLevel<string, string>(location, { engine })
      await db.batch(Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: key(i), value: `v${i}` })))
      const snapshot = db.snapshot()
      await db.put(key(0), 'changed')
      const iterator = db.iterator()
      expect(await iterator.next()).toEqual([key(0), 'changed'])
      // In flight when close() is called:
      const page = settled(iterator.nextv(100))
      const gets = Array.from({ length: 500 }, (_, i) => settled(db.get(key(i))))
      const atSnapshot = settled(db.get(key(0), { snapshot }))
      const write = settled(db.put('written', 'before close'))
      const closing = db.close()
      // Made after it:
      const lateGet = settled(db.get(key(1)))
      const lateWrite = settled(db.put('written-late', 'after close'))
      await closing
      expect(await page).toMatchObject({ status: 'fulfilled', value: expect.arrayContaining([[key(1), 'v1']]) })
      const values = await Promise.all(gets)
      expect(values.map((r) => (r.status === 'fulfilled' ? r.value : r.reason))).toEqual(Array.from({ length: 500 }, (_, i) => (i === 0 ? 'changed' : `v${i}`)))
      expect(await atSnapshot).toEqual({ status: 'fulfilled', value: 'v0' })
      expect(await write).toEqual({ status: 'fulfilled', value: undefined })
      expect(await lateGet).toMatchObject({ status: 'rejected', reason: { code: 'LEVEL_DATABASE_NOT_OPEN' } })
      expect(await lateWrite).toMatchObject({ status: 'rejected', reason: { code: 'LEVEL_DATABASE_NOT_OPEN' } })
      await expect(iterator.next()).rejects.toMatchObject({ code: 'LEVEL_ITERATOR_NOT_OPEN' })
      await expect(db.get(key(0), { snapshot })).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' })
      await expect(snapshot.close()).resolves.toBeUndefined()
      // What was acknowledged before the close is there after it, and nothing else.
      await db.open()
      expect(await db.get('written')).toBe('before close')
      expect(await db.get('written-late')).toBeUndefined()
      await db.close()
    })

    it('a for-await loop reading while the database closes stops with LEVEL_ITERATOR_NOT_OPEN after whole entries only', async () => {
      const db = new StrataLevel<string, string>(join(root, 'db'), { engine })
      await db.batch(Array.from({ length: 2000 }, (_, i) => ({ type: 'put' as const, key: key(i), value: `v${i}` })))
      const seen: [string, string][] = []
      let closing: Promise<void> | undefined
      const reading = (async () => {
        for await (const entry of db.iterator()) {
          seen.push(entry)
          if (seen.length === 700) closing = db.close()
        }
      })()
      await expect(reading).rejects.toMatchObject({ code: 'LEVEL_ITERATOR_NOT_OPEN' })
      await closing
      expect(seen.length).toBeGreaterThanOrEqual(700)
      expect(seen.every(([k, v], i) => k === key(i) && v === `v${i}`)).toBe(true)
      expect(db.status).toBe('closed')
      await db.open()
      expect(await db.get(key(1999))).toBe('v1999')
      await db.close()
    })

    it('a close() that cannot write on a full disk rejects with LEVEL_DATABASE_NOT_CLOSED caused by STRATA_IO_ERROR, and a second close() and an open() recover every acknowledged write', async () => {
      const fs = new MemoryFileSystem()
      const db = new StrataLevel<string, string>('full-disk', { engine, fs, engineOptions: { pageSize: 512 } })
      await db.open()
      for (let i = 0; i < 50; i++) await db.put(key(i), `v${i}`, { sync: false } as object)
      fs.faults = (operation) => (operation === 'write' ? 'ENOSPC' : undefined)
      await expect(db.put('refused', 'x')).rejects.toMatchObject({ code: 'STRATA_IO_ERROR', cause: { code: 'ENOSPC' } })
      expect(await db.get(key(49))).toBe('v49')
      await expect(db.close()).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_CLOSED', cause: { code: 'STRATA_IO_ERROR' } })
      // abstract-level calls the database open again, but the engine behind it is closed.
      expect(db.status).toBe('open')
      await expect(db.get(key(1))).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' })
      fs.faults = undefined
      await db.close()
      await db.open()
      expect(await db.values({ lt: key(50) }).all()).toEqual(Array.from({ length: 50 }, (_, i) => `v${i}`))
      expect(await db.get('refused')).toBeUndefined()
      await db.close()
    })

    it('open() and close() called over and over, with iterators and snapshots left open, keep the data', async () => {
      const db = new StrataLevel<string, string>(join(root, 'db'), { engine })
      for (let round = 0; round < 10; round++) {
        await db.open()
        await db.put(key(round), `round ${round}`)
        db.snapshot()
        const iterator = db.iterator()
        await iterator.next()
        const closing = db.close()
        // A second close while the first runs is the same close.
        await Promise.all([closing, db.close()])
      }
      await db.open()
      expect(await db.values({ lt: key(10) }).all()).toEqual(Array.from({ length: 10 }, (_, i) => `round ${i}`))
      await db.close()
    })
  })
}
