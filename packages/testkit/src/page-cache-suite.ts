import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { Engine } from '@strata/btree'
import { MemoryFileSystem, NodeFileSystem } from '@strata/storage'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { corruptionCampaign } from './corruption-campaign.js'
import { crashCampaign } from './crash-campaign.js'
import { describeTally } from './crash-tally.js'
import type { EngineFactory } from './engine-factory.js'
import { runModel, steps } from './model-test.js'

/** The collector, exposed at run time: memory is compared after a full collection. */
function collector(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/** Bytes the process holds in JavaScript objects and buffers. */
function heldBytes(gc: () => void): number {
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.external + m.arrayBuffers
}

/** Writes `keys` entries to a database in `folder` and closes it; returns what it wrote, by key. */
async function loadWith(factory: EngineFactory, folder: string, keys: number): Promise<Map<string, Buffer>> {
  const written = new Map<string, Buffer>()
  const db = await factory.open(new NodeFileSystem(folder))
  for (let at = 0; at < keys; at += 2000) {
    const ops = []
    for (let i = at; i < at + 2000; i++) {
      ops.push({ type: 'put' as const, key: key(i), value: valueOf(i) })
      written.set(key(i).toString('latin1'), valueOf(i))
    }
    await db.write(ops, { sync: false })
  }
  await db.close()
  return written
}

/** Entries of the cursor and snapshot tests: hundreds of 512-byte pages. */
const ENTRIES = 3000
const put = (round: number) => Array.from({ length: ENTRIES }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.from(`${round}:${i}`) }))
const stateOf = (round: number) => new Map(Array.from({ length: ENTRIES }, (_, i) => [key(i).toString('latin1'), `${round}:${i}`]))

/** Rewrites every entry three times, compacting after each: every page of the state before is superseded and moved. */
async function supersede(db: Engine): Promise<void> {
  for (let round = 1; round <= 3; round++) {
    await db.write(put(round))
    await db.compact()
  }
}

const key = (i: number) => Buffer.from(`key:${(i * 2654435761) % 2 ** 32}`.padEnd(16, '.'))
const valueOf = (i: number) => Buffer.from(`value ${i} `.padEnd(100, String.fromCharCode(97 + (i % 26))))

/**
 * The page cache's suite (docs/architecture.md §The page cache) for the engine `factory` opens,
 * and the campaigns run again through `tiny`, the same engine with a cache of a few pages, so that
 * pages are evicted all the time.
 */
export function pageCacheSuite(factory: EngineFactory, tiny: EngineFactory): void {
  const open = (fs: NodeFileSystem | MemoryFileSystem, options: { cacheSize?: unknown; small?: boolean } = {}) => factory.open(fs, options)
  const load = (folder: string, keys: number) => loadWith(factory, folder, keys)

  describe(`${factory.name} with a 1 MiB page cache`, () => {
    const folders: string[] = []
    afterEach(() => {
      for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true })
    })

    it('reads back 200,000 keys in random order and in a scan, holding no more than its budget', async () => {
      const folder = mkdtempSync(join(tmpdir(), 'strata-cache-'))
      folders.push(folder)
      const keys = 200_000
      const written = await load(folder, keys)
      const budget = 1024 * 1024
      const gc = collector()
      const reading = await readEverything(folder, keys, budget, written, gc)
      // What the open database held beyond what the process holds once it is closed and gone.
      const held = reading.heldOpen - heldBytes(gc)
      const { cache, mostHeld } = reading
      console.log(`1 MiB cache: ${cache.hits} hits, ${cache.misses} misses, ${cache.evictions} evictions; at most ${mostHeld} bytes held; the open database held ${(held / 2 ** 20).toFixed(1)} MiB`)
      expect(mostHeld).toBeLessThanOrEqual(budget)
      expect(mostHeld).toBeGreaterThan(budget / 2)
      expect(cache).toMatchObject({ budget, dirtyBytes: 0 })
      expect(cache.evictions).toBeGreaterThan(keys / 100)
      // The pages the reads met are 200,000 keys' worth, over 30 MiB decoded: the database keeps
      // its budget and a little besides, not the pages.
      expect(held).toBeLessThan(budget + 4 * 1024 * 1024)
    })

    /** Reads every key in random order and scans them all, checking each against `written`; measures what the open database holds. */
    async function readEverything(folder: string, keys: number, budget: number, written: Map<string, Buffer>, gc: () => void) {
      const db = await open(new NodeFileSystem(folder), { cacheSize: budget })
      const order = Array.from({ length: keys }, (_, i) => i)
      for (let i = order.length - 1; i > 0; i--) {
        const j = (i * 7919 + 13) % (i + 1)
        ;[order[i], order[j]] = [order[j] as number, order[i] as number]
      }
      let mostHeld = 0
      for (const [n, i] of order.entries()) {
        expect(db.get(key(i))?.equals(valueOf(i))).toBe(true)
        if (n % 1000 === 0) mostHeld = Math.max(mostHeld, db.stats().cache.cleanBytes)
      }
      let scanned = 0
      const cursor = db.iterate({})
      for (let e = cursor.next(); e; e = cursor.next(), scanned++) {
        expect(written.get(e[0].toString('latin1'))?.equals(e[1])).toBe(true)
        if (scanned % 1000 === 0) mostHeld = Math.max(mostHeld, db.stats().cache.cleanBytes)
      }
      cursor.close()
      expect(scanned).toBe(keys)
      const heldOpen = heldBytes(gc)
      const cache = db.stats().cache
      expect(db.check()).toEqual([])
      await db.close()
      return { heldOpen, cache, mostHeld }
    }
  })

  describe(`${factory.name} cursors and snapshots with a cache of a few pages`, () => {
    it('a cursor reads its state whole while the head is rewritten, compacted and the pages evicted', async () => {
      const db = await open(new MemoryFileSystem(), { small: true, cacheSize: 4 * 1024 })
      await db.write(put(0))
      await db.compact()
      // The cursor alone holds its state: what it has not read yet is read back by address.
      const cursor = db.iterate({})
      const seen = new Map<string, string>()
      while (seen.size < ENTRIES / 3) {
        const e = cursor.next() as [Buffer, Buffer]
        seen.set(e[0].toString('latin1'), e[1].toString())
      }
      await supersede(db)
      for (let e = cursor.next(); e; e = cursor.next()) seen.set(e[0].toString('latin1'), e[1].toString())
      cursor.close()
      expect(seen).toEqual(stateOf(0))
      expect(db.stats().cache.evictions).toBeGreaterThan(100)
      expect(db.check()).toEqual([])
      await db.close()
    })

    it('a snapshot reads its state whole while the head is rewritten, compacted and the pages evicted', async () => {
      const db = await open(new MemoryFileSystem(), { small: true, cacheSize: 4 * 1024 })
      await db.write(put(0))
      await db.compact()
      const snapshot = db.snapshot()
      await supersede(db)
      for (let i = 0; i < ENTRIES; i++) expect(db.get(key(i), snapshot)?.toString()).toBe(`0:${i}`)
      snapshot.release()
      for (let i = 0; i < ENTRIES; i++) expect(db.get(key(i))?.toString()).toBe(`3:${i}`)
      expect(db.check()).toEqual([])
      await db.close()
    })
  })

  describe(`${factory.name} cacheSize`, () => {
    it('refuses a cacheSize that is not a non-negative integer with a RangeError coded STRATA_INVALID_OPTION; 0 caches nothing', async () => {
      for (const cacheSize of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '8mb']) {
        await expect(open(new MemoryFileSystem(), { cacheSize })).rejects.toThrow(expect.objectContaining({ name: 'RangeError', code: 'STRATA_INVALID_OPTION' }))
      }
      const uncached = await open(new MemoryFileSystem(), { cacheSize: 0 })
      await uncached.write([{ type: 'put', key: key(1), value: valueOf(1) }])
      expect(uncached.get(key(1))?.equals(valueOf(1))).toBe(true)
      expect(uncached.stats().cache).toMatchObject({ budget: 0, cleanBytes: 0 })
      await uncached.close()
    })
  })

  describe(`${tiny.name}: the campaigns with pages evicted all the time`, () => {
    it('agrees with the model over 300 random runs', async () => {
      await fc.assert(
        fc.asyncProperty(steps, (run) => runModel(tiny, run)),
        { numRuns: 300 },
      )
    })

    it('recovers every acknowledged commit at every crash point', async () => {
      const report = await crashCampaign(tiny, { commits: 150 })
      console.log(`${tiny.name} crash campaign: ${report.commits} commits, ${report.points} crash points; ${describeTally(report.tally)}`)
      expect(report.failures).toEqual([])
    })

    it('opens a damaged database at a commit it made, or fails with LEVEL_CORRUPTION', async () => {
      const report = await corruptionCampaign(tiny, { mutations: 400 })
      const o = report.outcomes
      console.log(`${tiny.name} corruption campaign: ${o.intact} intact, ${o.rolledBack} rolled back, ${o.readErrors} with reads failing cleanly, ${o.refused} refused; ${report.reads} values compared`)
      expect(report.failures.slice(0, 10), `${report.failures.length} failures, the first 10 shown`).toEqual([])
    })
  })
}
