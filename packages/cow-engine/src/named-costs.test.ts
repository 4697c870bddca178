import type { IoReport } from '@strata/storage'
import { MemoryFileSystem } from '@strata/storage'
import { describe, expect, it } from 'vitest'
import { CowEngine } from './cow-engine.js'
import type { StoreMode } from './preimage-store.js'

const PAGE = 4096
const key = (i: number) => Buffer.from(`key${String(i).padStart(7, '0')}`)
const manual = { minLogBytes: 1 << 30, maxLogBytes: 1 << 30 }

/** What one operation cost: bytes written and read (all purposes), syncs, and wall-clock milliseconds. */
interface Cost {
  written: number
  read: number
  syncs: number
  ms: number
}

function total(bytes: Record<string, number>): number {
  return Object.values(bytes).reduce((a, b) => a + b, 0)
}

async function measure(fs: MemoryFileSystem, engine: CowEngine, run: () => Promise<unknown>): Promise<Cost> {
  fs.io.reset()
  const started = performance.now()
  await run()
  const ms = performance.now() - started
  const io: IoReport = engine.stats().io
  return { written: total(io.bytesWritten), read: total(io.bytesRead), syncs: io.syncs, ms }
}

/** Loads `keys` keys, checkpoints and reopens (nothing in memory), then changes 100 keys. */
async function database(store: StoreMode, keys: number): Promise<{ fs: MemoryFileSystem; engine: CowEngine }> {
  const fs = new MemoryFileSystem()
  let engine = await CowEngine.open({ fs, store, pageSize: PAGE, checkpoint: manual })
  for (let at = 0; at < keys; at += 10_000) {
    await engine.write(Array.from({ length: Math.min(10_000, keys - at) }, (_, i) => ({ type: 'put' as const, key: key(at + i), value: Buffer.alloc(100, 1) })), { sync: false })
  }
  await engine.close()
  engine = await CowEngine.open({ fs, store, pageSize: PAGE, checkpoint: manual })
  return { fs, engine }
}

const changeHundred = (engine: CowEngine, keys: number, fill: number) =>
  engine.write(Array.from({ length: 100 }, (_, i) => ({ type: 'put' as const, key: key(Math.floor((i * keys) / 100)), value: Buffer.alloc(100, fill) })))

const show = (c: Cost) => `${(c.written / PAGE).toFixed(1)} pages written, ${(c.read / PAGE).toFixed(1)} read, ${c.syncs} syncs, ${c.ms.toFixed(1)} ms`

describe('CowEngine named snapshot costs', () => {
  for (const store of ['per-snapshot', 'shared'] as const) {
    it(`create and restore cost what changed, not the database's size (${store})`, async () => {
      const costs: Record<number, { create: Cost; restore: Cost; pages: number }> = {}
      for (const keys of [10_000, 100_000]) {
        const { fs, engine: loaded } = await database(store, keys)
        let engine = loaded
        // Create with 100 keys dirty: one checkpoint writes their pages and the catalogue.
        await changeHundred(engine, keys, 2)
        const create = await measure(fs, engine, () => engine.createSnapshot('s'))
        // 100 keys change after it. After a reopen (nothing in memory), the restore reads what
        // differs and writes the snapshot's versions of the changed pages on new pages.
        await changeHundred(engine, keys, 3)
        await engine.close()
        engine = await CowEngine.open({ fs, store, pageSize: PAGE, checkpoint: manual })
        const restore = await measure(fs, engine, () => engine.restoreSnapshot('s'))
        expect(engine.get(key(0))).toEqual(Buffer.alloc(100, 2))
        expect(engine.check()).toEqual([])
        costs[keys] = { create, restore, pages: engine.stats().pageCount as number }
        console.log(`CowEngine (${store}) at ${keys} keys (${costs[keys]?.pages} pages): create ${show(create)}; restore ${show(restore)}`)
        await engine.close()
      }
      const [a, b] = [costs[10_000], costs[100_000]] as [(typeof costs)[number], (typeof costs)[number]]
      // Ten times the data, the same 100 changed leaves: the costs grow only with the branch pages
      // above those leaves (all of a level, when the changes are spread this evenly), and stay a
      // small share of the database.
      expect(b.pages).toBeGreaterThan(7 * a.pages)
      for (const cost of [b.create, b.restore]) expect(cost.written).toBeLessThan(0.1 * b.pages * PAGE)
      expect(b.create.written).toBeLessThan(2 * a.create.written)
      expect(b.restore.written).toBeLessThan(2 * a.restore.written)
      expect(b.restore.read).toBeLessThan(2 * a.restore.read)
    })
  }
})
