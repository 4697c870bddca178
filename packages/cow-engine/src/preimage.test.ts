import type { EngineSnapshot, Operation } from '@strata/btree'
import { CrashFileSystem, MemoryFileSystem } from '@strata/storage'
import { fingerprint, Model, readAll } from '@strata/testkit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CowEngine, type CowEngineOptions } from './cow-engine.js'
import type { StoreMode } from './preimage-store.js'

const PAGE = 512
const key = (i: number) => Buffer.from(`key${String(i).padStart(5, '0')}`)
/** A value of `size` bytes that differs by round. */
const value = (i: number, round: number, size = 40) => Buffer.alloc(size, (i * 7 + round) & 0xff)

function options(fs: MemoryFileSystem, store: StoreMode): CowEngineOptions {
  // Checkpoints only when a test asks: it decides which overwrites a checkpoint sees.
  return { fs, store, pageSize: PAGE, checkpoint: { minLogBytes: 1 << 30, maxLogBytes: 1 << 30 } }
}

/** A database of `count` keys written, checkpointed and reopened, so that no page is in memory. */
async function coldDatabase(fs: MemoryFileSystem, store: StoreMode, count: number, model: Model, large = true): Promise<CowEngine> {
  const engine = await CowEngine.open(options(fs, store))
  const ops: Operation[] = []
  for (let i = 0; i < count; i++) {
    const v = value(i, 0, large && i % 50 === 0 ? 2000 : 40)
    ops.push({ type: 'put', key: key(i), value: v })
    model.put(key(i), v)
  }
  await engine.write(ops)
  await engine.close()
  return CowEngine.open(options(fs, store))
}

const storeBytes = (engine: CowEngine) => engine.stats().preimageBytes as number
/** Every key and whole value, as one string: a quick comparison of whole states. */
const contents = (entries: [Buffer, Buffer][]) => entries.map(([k, v]) => `${k.toString('hex')}=${v.toString('hex')}`).join(',')

for (const store of ['per-snapshot', 'shared'] as const) {
  describe(`CowEngine snapshots with ${store} pre-image stores`, () => {
    it('a snapshot reads its state after many in-place overwrites and checkpoints', async () => {
      const fs = new MemoryFileSystem()
      const model = new Model()
      const engine = await coldDatabase(fs, store, 600, model)
      const snapshot = engine.snapshot()
      const before = model.range()
      for (let round = 1; round <= 8; round++) {
        const ops: Operation[] = []
        for (let i = round % 3; i < 600; i += 2) {
          if ((i + round) % 11 === 0) ops.push({ type: 'del', key: key(i) })
          else ops.push({ type: 'put', key: key(i), value: value(i, round, (i + round) % 40 === 0 ? 1500 : 30 + (round % 3) * 10) })
        }
        await engine.write(ops)
        for (const op of ops) op.type === 'del' ? model.del(op.key) : model.put(op.key, op.value)
        await engine.checkpoint()
      }
      // The snapshot read nothing yet: every page it needs now comes from its pre-images.
      expect(storeBytes(engine)).toBeGreaterThan(0)
      expect(readAll(engine, snapshot)).toEqual(before)
      expect(engine.get(key(0), snapshot)).toEqual(value(0, 0, 2000))
      expect(readAll(engine)).toEqual(model.range())
      expect(engine.check()).toEqual([])
      snapshot.release()
      expect(storeBytes(engine)).toBe(0)
      expect(fs.list().filter((name) => name.endsWith('.pre') || name === 'preimages.db' && fs.files.get(name)?.length)).toEqual([])
      await engine.compact()
      expect(engine.check()).toEqual([])
      await engine.close()
    })

    it('a snapshot reads large values the head replaced before the WAL was reset', async () => {
      const fs = new MemoryFileSystem()
      const engine = await CowEngine.open(options(fs, store))
      const big = (n: number) => Buffer.alloc(1800, n)
      await engine.write([
        { type: 'put', key: key(1), value: big(1) },
        { type: 'put', key: key(2), value: big(2) },
      ])
      const snapshot = engine.snapshot()
      // key 1 is replaced: its WAL value is dropped by the head and saved for the snapshot; key 2
      // stays, so the checkpoint moves it to an overflow chain that the snapshot's old leaf still names by LSN.
      await engine.write([{ type: 'put', key: key(1), value: big(11) }])
      await engine.checkpoint()
      expect(engine.get(key(1), snapshot)).toEqual(big(1))
      expect(engine.get(key(2), snapshot)).toEqual(big(2))
      // The chain of key 2 is freed, and its pages reused: the snapshot reads their pre-images.
      for (let round = 0; round < 4; round++) {
        await engine.write([
          { type: 'put', key: key(2), value: big(20 + round) },
          { type: 'put', key: key(3 + round), value: big(30 + round) },
        ])
        await engine.checkpoint()
      }
      expect(readAll(engine, snapshot)).toEqual([
        [key(1), big(1)],
        [key(2), big(2)],
      ])
      expect(engine.get(key(2))).toEqual(big(23))
      expect(engine.check()).toEqual([])
      snapshot.release()
      await engine.close()
    })
  })
}

describe('CowEngine pre-image costs', () => {
  for (const k of [1, 2, 4]) {
    it(`with ${k} live snapshots, per-snapshot stores write ${k} copies of each overwritten page and the shared store one`, async () => {
      const written: Record<StoreMode, number> = { 'per-snapshot': 0, shared: 0 }
      for (const store of ['per-snapshot', 'shared'] as const) {
        const fs = new MemoryFileSystem()
        const engine = await coldDatabase(fs, store, 400, new Model(), false)
        const stats = engine.stats()
        // Pages 0 and 1 hold the meta; every other page is the tree's.
        const treePages = (stats.pageCount as number) - 2
        expect(stats.freePages).toBe(0)
        const snapshots: EngineSnapshot[] = Array.from({ length: k }, () => engine.snapshot())
        fs.io.reset()
        // Same-sized values: every page is overwritten in place once, none splits or moves.
        await engine.write(Array.from({ length: 400 }, (_, i) => ({ type: 'put' as const, key: key(i), value: value(i, 1) })))
        await engine.checkpoint()
        const io = engine.stats().io
        // The first overwrite of each page reads its old content once...
        expect(io.bytesRead.preimage).toBe(treePages * PAGE)
        // ...and writes it once per snapshot, or once for all of them.
        expect(io.bytesWritten.preimage).toBe((store === 'per-snapshot' ? k : 1) * treePages * PAGE)
        written[store] = io.bytesWritten.preimage
        // A second overwrite costs nothing more: the snapshots have their copies.
        fs.io.reset()
        await engine.write(Array.from({ length: 400 }, (_, i) => ({ type: 'put' as const, key: key(i), value: value(i, 2) })))
        await engine.checkpoint()
        expect(engine.stats().io.bytesWritten.preimage).toBe(0)
        expect(engine.check()).toEqual([])
        for (const s of snapshots) s.release()
        await engine.close()
      }
      expect(written['per-snapshot']).toBe(k * written.shared)
    })
  }
})

describe('CowEngine torn checkpoints', () => {
  it('a crash between the WAL images and the in-place writes recovers the checkpoint', async () => {
    const fs = new CrashFileSystem()
    const engine = await CowEngine.open({ fs, pageSize: PAGE, checkpoint: { minLogBytes: 1 << 30, maxLogBytes: 1 << 30 } })
    const model = new Model()
    const put = async (round: number) => {
      const ops: Operation[] = Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: key(i), value: value(i, round) }))
      await engine.write(ops)
      for (const op of ops) if (op.type === 'put') model.put(op.key, op.value)
    }
    await put(0)
    await engine.checkpoint()
    await put(1)
    const expected = model.fingerprint()
    const start = fs.point
    const before = fs.files.get('pages.db')?.snapshot() as Buffer
    await engine.checkpoint()
    const after = fs.files.get('pages.db')?.snapshot() as Buffer
    await engine.close()
    const inPlace = fs.events.findIndex((e, i) => i >= start && e.kind === 'write' && e.name === 'pages.db')
    expect(inPlace).toBeGreaterThan(start)
    let torn = 0
    for (const state of fs.crashStates(start)) {
      if (state.point > inPlace + 3) break
      const pages = state.fs.files.get('pages.db')?.snapshot() as Buffer
      // The WAL holds every image; pages.db holds none, some or all of them.
      if (!pages.equals(before) && !pages.equals(after.subarray(0, pages.length))) torn++
      const recovered = await CowEngine.open({ fs: state.fs, pageSize: PAGE })
      expect(fingerprint(readAll(recovered))).toBe(expected)
      expect(recovered.check()).toEqual([])
      await recovered.close()
    }
    expect(torn).toBeGreaterThan(0)
  })
})

describe('CowEngine cold snapshots against the model', () => {
  const round = fc.record({
    puts: fc.array(fc.record({ key: fc.nat(199), size: fc.oneof({ weight: 6, arbitrary: fc.nat(60) }, { weight: 1, arbitrary: fc.integer({ min: 200, max: 2500 }) }), del: fc.boolean() }), { minLength: 1, maxLength: 40 }),
    checkpoint: fc.boolean(),
    snapshot: fc.boolean(),
    release: fc.option(fc.nat(), { nil: undefined }),
    compact: fc.boolean(),
  })
  for (const store of ['per-snapshot', 'shared'] as const) {
    it(`snapshots of a reopened database read their state from ${store} pre-images`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(round, { minLength: 1, maxLength: 12 }), async (rounds) => {
          const fs = new MemoryFileSystem()
          const head = new Model()
          let engine = await coldDatabase(fs, store, 200, head)
          const pinned: { snapshot: EngineSnapshot; model: Model }[] = [{ snapshot: engine.snapshot(), model: head.clone() }]
          try {
            let salt = 0
            for (const r of rounds) {
              const ops: Operation[] = r.puts.map((p) => (p.del ? { type: 'del', key: key(p.key) } : { type: 'put', key: key(p.key), value: Buffer.alloc(p.size, ++salt & 0xff) }))
              await engine.write(ops)
              for (const op of ops) op.type === 'del' ? head.del(op.key) : head.put(op.key, op.value)
              if (r.checkpoint) await engine.checkpoint()
              if (r.compact) await engine.compact()
              if (r.snapshot) pinned.push({ snapshot: engine.snapshot(), model: head.clone() })
              if (r.release !== undefined && pinned.length > 0) pinned.splice(r.release % pinned.length, 1)[0]?.snapshot.release()
            }
            await engine.checkpoint()
            for (const p of pinned) expect(contents(readAll(engine, p.snapshot))).toBe(contents(p.model.range()))
            expect(contents(readAll(engine))).toBe(contents(head.range()))
            expect(engine.check()).toEqual([])
            for (const p of pinned) p.snapshot.release()
            expect(storeBytes(engine)).toBe(0)
            await engine.close()
            engine = await CowEngine.open(options(fs, store))
            expect(contents(readAll(engine))).toBe(contents(head.range()))
            expect(engine.check()).toEqual([])
          } finally {
            await engine.close()
          }
        }),
        { numRuns: 200 },
      )
    })
  }
})
