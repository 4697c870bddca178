import type { Engine, Operation } from '@strata/btree'
import { MemoryFileSystem } from '@strata/storage'
import { describe, expect, it } from 'vitest'
import { type EngineFactory, readAll } from './engine-factory.js'
import { Model } from './model.js'
import { readsWhileSyncing } from './reads-while-syncing.js'

const b = (s: string) => Buffer.from(s)
const key = (n: number) => b(`key:${String(n).padStart(5, '0')}`)

async function withEngine(factory: EngineFactory, body: (engine: Engine, fs: MemoryFileSystem) => Promise<void>, small = true): Promise<void> {
  const fs = new MemoryFileSystem()
  const engine = await factory.open(fs, { small })
  try {
    await body(engine, fs)
    expect(engine.check()).toEqual([])
  } finally {
    await engine.close()
  }
}

/**
 * The engine conformance suite: the behaviour every page store must show, run against each by
 * its factory (as bbolt runs both freelists through one suite). Every test ends with `check()`.
 */
export function engineConformance(factory: EngineFactory): void {
  describe(`${factory.name} conformance`, () => {
    it('reads back what was written, and nothing that was deleted', async () => {
      await withEngine(factory, async (engine) => {
        await engine.write([{ type: 'put', key: b('a'), value: b('1') }])
        await engine.write([
          { type: 'put', key: b('b'), value: b('2') },
          { type: 'put', key: b('a'), value: b('3') },
          { type: 'del', key: b('missing') },
        ])
        expect(engine.get(b('a'))?.toString()).toBe('3')
        expect(engine.get(b('b'))?.toString()).toBe('2')
        expect(engine.get(b('c'))).toBeUndefined()
        await engine.write([{ type: 'del', key: b('a') }])
        expect(engine.get(b('a'))).toBeUndefined()
        expect(engine.seq).toBe(3)
      })
    })

    it('keeps what a batch held when write was called, though the caller reuses its buffers before the batch is committed', async () => {
      const fs = new MemoryFileSystem()
      let engine = await factory.open(fs, { small: true })
      const k = b('reused-key')
      const v = b('first value')
      const first = engine.write([{ type: 'put', key: b('other'), value: b('x') }])
      // Queued behind the first batch: the caller changes its buffers before this one commits.
      const second = engine.write([{ type: 'put', key: k, value: v }])
      k.write('changed!!!')
      v.write('other bytes')
      await Promise.all([first, second])
      expect(engine.get(b('reused-key'))?.toString()).toBe('first value')
      expect(engine.get(k)).toBeUndefined()
      await engine.close()
      engine = await factory.open(fs, { small: true })
      expect(engine.get(b('reused-key'))?.toString()).toBe('first value')
      expect(engine.check()).toEqual([])
      await engine.close()
    })

    it('keeps many keys in byte order across splits, merges and checkpoints', async () => {
      await withEngine(factory, async (engine) => {
        const model = new Model()
        for (let round = 0; round < 20; round++) {
          const ops: Operation[] = []
          for (let i = 0; i < 100; i++) {
            const k = key((round * 7919 + i * 104729) % 1500)
            if ((round + i) % 5 === 0) {
              ops.push({ type: 'del', key: k })
              model.del(k)
            } else {
              const v = b(`value-${round}-${i}`)
              ops.push({ type: 'put', key: k, value: v })
              model.put(k, v)
            }
          }
          await engine.write(ops)
        }
        expect(readAll(engine)).toEqual(model.range())
        const cursor = engine.iterate({ gte: key(100), lt: key(200), reverse: true, limit: 10 })
        const got: Buffer[] = []
        for (let e = cursor.next(); e; e = cursor.next()) got.push(Buffer.from(e[0]))
        cursor.close()
        expect(got).toEqual(model.range({ gte: key(100), lt: key(200), reverse: true, limit: 10 }).map(([k]) => k))
      })
    })

    it('seeks within the range of a cursor', async () => {
      await withEngine(factory, async (engine) => {
        await engine.write(Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: key(i * 2), value: b('v') })))
        const cursor = engine.iterate({ gte: key(100), lte: key(400) })
        cursor.seek(key(301))
        expect(cursor.next()?.[0].toString()).toBe(key(302).toString())
        cursor.seek(key(0))
        expect(cursor.next()?.[0].toString()).toBe(key(100).toString())
        cursor.seek(key(999))
        expect(cursor.next()).toBeUndefined()
        cursor.close()
        const reverse = engine.iterate({ reverse: true })
        reverse.seek(key(301))
        expect(reverse.next()?.[0].toString()).toBe(key(300).toString())
        reverse.close()
      })
    })

    it('a snapshot does not see later puts and deletes', async () => {
      await withEngine(factory, async (engine) => {
        await engine.write(Array.from({ length: 500 }, (_, i) => ({ type: 'put' as const, key: key(i), value: b('before') })))
        const snapshot = engine.snapshot()
        const before = readAll(engine)
        for (let i = 0; i < 500; i += 50) {
          await engine.write(Array.from({ length: 50 }, (_, j) => (j % 2 ? { type: 'del' as const, key: key(i + j) } : { type: 'put' as const, key: key(i + j), value: b('after') })))
        }
        await engine.compact()
        expect(snapshot.seq).toBe(1)
        expect(engine.get(key(1), snapshot)?.toString()).toBe('before')
        expect(engine.get(key(1))).toBeUndefined()
        expect(readAll(engine, snapshot)).toEqual(before)
        snapshot.release()
        expect(() => engine.get(key(1), snapshot)).toThrow(expect.objectContaining({ code: 'LEVEL_SNAPSHOT_NOT_OPEN' }))
      })
    })

    it('an open iterator keeps reading the state it started on', async () => {
      await withEngine(factory, async (engine) => {
        await engine.write(Array.from({ length: 400 }, (_, i) => ({ type: 'put' as const, key: key(i), value: b(`v${i}`) })))
        const cursor = engine.iterate()
        expect(cursor.next()?.[0].toString()).toBe(key(0).toString())
        for (let round = 0; round < 10; round++) {
          await engine.write(Array.from({ length: 400 }, (_, i) => ({ type: 'put' as const, key: key(i), value: b(`round${round}`) })))
        }
        await engine.compact()
        let count = 1
        for (let e = cursor.next(); e; e = cursor.next()) {
          expect(e[1].toString()).toBe(`v${count}`)
          count++
        }
        cursor.close()
        expect(count).toBe(400)
      })
    })

    it('survives close and reopen, with sync and without', async () => {
      const fs = new MemoryFileSystem()
      let engine = await factory.open(fs, { small: true })
      const model = new Model()
      for (let i = 0; i < 300; i++) {
        const k = key(i % 120)
        const v = Buffer.alloc(i % 7 === 0 ? 3000 : 20, i)
        model.put(k, v)
        await engine.write([{ type: 'put', key: k, value: v }], { sync: i % 2 === 0 })
      }
      await engine.close()
      engine = await factory.open(fs, { small: true })
      expect(readAll(engine)).toEqual(model.range())
      expect(engine.seq).toBe(300)
      expect(engine.check()).toEqual([])
      await engine.close()
    })

    it('stores large values out of line and rejects oversized keys and values', async () => {
      await withEngine(
        factory,
        async (engine) => {
          const big = Buffer.alloc(5 * 1024 * 1024, 7)
          await engine.write([{ type: 'put', key: b('big'), value: big }])
          expect(engine.get(b('big'))?.equals(big)).toBe(true)
          await expect(engine.write([{ type: 'put', key: Buffer.alloc(1025), value: b('x') }])).rejects.toThrow(RangeError)
          await expect(engine.write([{ type: 'put', key: Buffer.alloc(1025), value: b('x') }])).rejects.toMatchObject({ code: 'STRATA_KEY_TOO_LARGE' })
          await expect(engine.write([{ type: 'put', key: b('k'), value: Buffer.alloc(16 * 1024 * 1024 + 1) }])).rejects.toMatchObject({ code: 'STRATA_VALUE_TOO_LARGE' })
          await expect(engine.write([{ type: 'put', key: 'k' as unknown as Buffer, value: b('x') }])).rejects.toThrow(TypeError)
          await engine.write([{ type: 'put', key: Buffer.alloc(1024, 1), value: b('max key') }])
          expect(engine.get(Buffer.alloc(1024, 1))?.toString()).toBe('max key')
          expect(engine.seq).toBe(2)
        },
        false,
      )
    })

    it('reclaims the space of overwritten data', async () => {
      await withEngine(factory, async (engine) => {
        for (let round = 0; round < 30; round++) {
          await engine.write(Array.from({ length: 200 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(100, round) })))
        }
        await engine.compact()
        const stats = engine.stats()
        expect(stats.liveBytes).toBe(200 * (key(0).length + 100))
        expect(stats.fileBytes).toBeLessThan(4 * stats.liveBytes)
        expect(readAll(engine).every(([, v]) => v.equals(Buffer.alloc(100, 29)))).toBe(true)
      })
    })

    it('refuses a second open of the same folder, and use after close', async () => {
      const fs = new MemoryFileSystem()
      const engine = await factory.open(fs, { small: true })
      await expect(factory.open(fs, { small: true })).rejects.toMatchObject({ code: 'LEVEL_LOCKED' })
      await engine.write([{ type: 'put', key: b('a'), value: b('1') }])
      await engine.close()
      expect(() => engine.get(b('a'))).toThrow(expect.objectContaining({ code: 'LEVEL_DATABASE_NOT_OPEN' }))
      await expect(engine.write([{ type: 'put', key: b('a'), value: b('2') }])).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' })
      const again = await factory.open(fs, { small: true })
      expect(again.get(b('a'))?.toString()).toBe('1')
      await again.close()
    })

    it('honours createIfMissing and errorIfExists', async () => {
      const fs = new MemoryFileSystem()
      await expect(factory.open(fs, { createIfMissing: false })).rejects.toMatchObject({ code: 'STRATA_DATABASE_NOT_FOUND' })
      const engine = await factory.open(fs)
      await engine.close()
      await expect(factory.open(fs, { errorIfExists: true })).rejects.toMatchObject({ code: 'STRATA_DATABASE_EXISTS' })
    })

    it('reports a flipped byte in a page as LEVEL_CORRUPTION, never as data', async () => {
      const fs = new MemoryFileSystem()
      let engine = await factory.open(fs, { small: true })
      await engine.write(Array.from({ length: 400 }, (_, i) => ({ type: 'put' as const, key: key(i), value: b(`value ${i}`) })))
      await engine.close()
      // Flip one byte in the middle of every data file; the reads that touch it must fail cleanly.
      for (const [name, data] of fs.files) {
        if (name === 'LOCK' || name === 'META') continue
        const at = Math.floor(data.length / 3)
        data.bytes[at] = (data.bytes[at] as number) ^ 0x5a
      }
      try {
        engine = await factory.open(fs, { small: true })
      } catch (error) {
        expect(error).toMatchObject({ code: 'LEVEL_CORRUPTION' })
        return
      }
      let failures = 0
      for (let i = 0; i < 400; i++) {
        try {
          const value = engine.get(key(i))
          if (value !== undefined) expect(value.toString()).toBe(`value ${i}`)
        } catch (error) {
          expect(error).toMatchObject({ code: 'LEVEL_CORRUPTION' })
          failures++
        }
      }
      expect(failures + engine.check().length).toBeGreaterThan(0)
      await engine.close()
    })
  })
  readsWhileSyncing(factory)
}
