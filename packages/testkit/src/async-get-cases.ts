import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Engine, Operation } from '@strata/btree'
import { NodeFileSystem } from '@strata/storage'
import { afterEach, describe, expect, it } from 'vitest'
import { seededRandom } from './random.js'

const KEYS = 3000
const key = (i: number) => Buffer.from(`key${String(i).padStart(6, '0')}`)

/** An engine whose gets can read pages without blocking the event loop. */
export type AsyncGetEngine = Engine & Required<Pick<Engine, 'getAsync'>>

/**
 * What an engine's `getAsync` promises (docs/architecture.md §The page cache): on disk, with a
 * cache of a few pages so that gets read pages off the event loop all the time, each answers as of
 * its call while writes, checkpoints and compaction change the tree under its reads, and a close
 * waits for the reads in flight. `open` opens the engine in `fs` with small pages and checkpoints
 * and a cache of a few pages.
 */
export function asyncGetCases(name: string, open: (fs: NodeFileSystem) => Promise<AsyncGetEngine>): void {
  describe(`${name}: getAsync on disk, with a cache of a few pages`, () => {
    const folders: string[] = []
    afterEach(() => {
      for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true })
    })
    const folder = () => {
      const path = mkdtempSync(join(tmpdir(), 'strata-async-get-'))
      folders.push(path)
      return path
    }

    it('answers as of each call while writes, checkpoints, cleaning and compaction change the tree under its reads', async () => {
      const engine = await open(new NodeFileSystem(folder()))
      // What acknowledged writes left, and the writes issued and not yet acknowledged.
      const acked = new Map<number, string>()
      const pending = new Set<Map<number, string>>()
      const write = (round: number, keys: number[]): Promise<void> => {
        const values = new Map(keys.map((i) => [i, `${round}:${i}`]))
        pending.add(values)
        const ops: Operation[] = [...values].map(([i, v]) => ({ type: 'put', key: key(i), value: Buffer.from(v) }))
        return engine.write(ops, { sync: round % 2 === 0 }).then(() => {
          pending.delete(values)
          for (const [i, v] of values) acked.set(i, v)
        })
      }
      await write(0, Array.from({ length: KEYS }, (_, i) => i))
      await engine.compact()
      const rand = seededRandom(7)
      const checks: Promise<void>[] = []
      let reads = 0
      for (let round = 1; round <= 40; round++) {
        // A get answers with a state as of its call: what was acknowledged, or a write issued
        // before it; never one issued after it, whatever lands before it finishes.
        for (let n = 0; n < 25; n++) {
          const i = Math.floor(rand() * KEYS)
          const allowed = [acked.get(i), ...[...pending].map((values) => values.get(i)).filter((v) => v !== undefined)]
          checks.push(engine.getAsync(key(i)).then((got) => expect(allowed).toContain(got?.toString())))
        }
        const next = write(round, Array.from({ length: 60 }, () => Math.floor(rand() * KEYS)))
        if (round % 10 === 0) {
          await next
          await engine.compact()
        }
        reads = engine.stats().cache.misses
      }
      await Promise.all(checks)
      expect(reads).toBeGreaterThan(100)
      expect(engine.check()).toEqual([])
      await engine.close()
    })

    it('a get whose leaf is read off the thread answers as of its call, not with a write that lands while it reads', async () => {
      const path = folder()
      let engine = await open(new NodeFileSystem(path))
      await engine.write(Array.from({ length: KEYS }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.from(`before ${i}`) })))
      await engine.close()
      engine = await open(new NodeFileSystem(path))
      for (const i of [17, 1500, 2999]) {
        const missesBefore = engine.stats().cache.misses
        const reading = engine.getAsync(key(i))
        const writing = engine.write([{ type: 'put', key: key(i), value: Buffer.from(`after ${i}`) }], { sync: false })
        expect((await reading)?.toString()).toBe(`before ${i}`)
        await writing
        expect(engine.stats().cache.misses).toBeGreaterThan(missesBefore)
        expect((await engine.getAsync(key(i)))?.toString()).toBe(`after ${i}`)
      }
      await engine.close()
    })

    it('a close lets the gets in flight answer; gets made after it reject with LEVEL_DATABASE_NOT_OPEN', async () => {
      const path = folder()
      let engine = await open(new NodeFileSystem(path))
      await engine.write(Array.from({ length: KEYS }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.from(`v${i}`) })))
      await engine.close()
      engine = await open(new NodeFileSystem(path))
      const inFlight = Array.from({ length: 50 }, (_, n) => engine.getAsync(key(n * 53)))
      await engine.close()
      // Each answered: issued before the close, as classic-level's and memory-level's gets do.
      expect((await Promise.all(inFlight)).map((v) => v?.toString())).toEqual(Array.from({ length: 50 }, (_, n) => `v${n * 53}`))
      await expect(engine.getAsync(key(1))).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' })
    })

    it('counts cache hits and misses as get does', async () => {
      const path = folder()
      let engine = await open(new NodeFileSystem(path))
      await engine.write(Array.from({ length: KEYS }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.from(`v${i}`) })))
      await engine.close()
      const counts: { hits: number; misses: number }[] = []
      for (const asynchronous of [false, true]) {
        engine = await open(new NodeFileSystem(path))
        for (let n = 0; n < 300; n++) {
          const k = key((n * 7919) % KEYS)
          const got = asynchronous ? await engine.getAsync(k) : engine.get(k)
          expect(got?.toString()).toBe(`v${(n * 7919) % KEYS}`)
        }
        const { hits, misses } = engine.stats().cache
        counts.push({ hits, misses })
        await engine.close()
      }
      expect(counts[0]?.misses).toBeGreaterThan(100)
      expect(counts[1]).toEqual(counts[0])
    })
  })
}
