import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Change, Engine, EngineCursor, EngineSnapshot, SnapshotEngine } from '@strata/btree'
import { FaultyFileSystem, MemoryFileSystem, NodeFileSystem } from '@strata/storage'
import { describe, expect, it } from 'vitest'
import { type EngineFactory, readAll } from './engine-factory.js'
import { codeOf } from './error-codes.js'
import { fingerprint, Model } from './model.js'
import { openDescriptorCount, openHandlesUnder } from './open-handles.js'
import { seededRandom } from './random.js'
import { workloadBatch, workloadKey } from './workload.js'

const NOT_OPEN = expect.objectContaining({ code: 'LEVEL_DATABASE_NOT_OPEN' })

/** A reader opened at some moment: a cursor part-way through, or a snapshot, and the seq it saw. */
interface Reader {
  seq: number
  cursor?: EngineCursor
  snapshot?: EngineSnapshot
  read: [Buffer, Buffer][]
}

function drain(cursor: EngineCursor, into: [Buffer, Buffer][]): [Buffer, Buffer][] {
  for (let e = cursor.next(); e; e = cursor.next()) into.push([Buffer.from(e[0]), Buffer.from(e[1])])
  return into
}

function take(cursor: EngineCursor, count: number, into: [Buffer, Buffer][]): void {
  for (let i = 0; i < count; i++) {
    const e = cursor.next()
    if (!e) return
    into.push([Buffer.from(e[0]), Buffer.from(e[1])])
  }
}

/** Writes `batches` workload batches and returns the model after each (index = seq). */
function plannedStates(seed: number, batches: number): { ops: ReturnType<typeof workloadBatch>[]; states: string[]; final: Model } {
  const model = new Model()
  const states = [model.fingerprint()]
  const ops: ReturnType<typeof workloadBatch>[] = []
  for (let n = 1; n <= batches; n++) {
    const batch = workloadBatch(seed, n)
    ops.push(batch)
    model.apply(batch)
    states.push(model.fingerprint())
  }
  return { ops, states, final: model }
}

/**
 * The concurrency and lifecycle suite: readers open while writes, checkpoints, compactions and
 * `close()` go on, `close()` with work queued and readers open, opens racing a close, and no file
 * handle left behind on a real folder by opens, closes and failed opens. Run against each engine by
 * its factory; every test on a database that stays open ends with `check()` empty.
 */
export function engineLifecycle(factory: EngineFactory): void {
  describe(`${factory.name} concurrency and lifecycle`, () => {
    it('cursors and snapshots opened between queued writes and compactions read the state of the moment they were opened', async () => {
      const fs = new MemoryFileSystem()
      const engine = await factory.open(fs, { small: true })
      const { ops, states } = plannedStates(21, 80)
      const rand = seededRandom(21)
      const pending: Promise<void>[] = []
      const readers: Reader[] = []
      for (const [i, batch] of ops.entries()) {
        pending.push(engine.write(batch, { sync: rand() < 0.7 }))
        if (i % 11 === 10) pending.push(engine.compact())
        // Now and then let part of the queue run, so readers open at many states.
        if (rand() < 0.3) await pending[Math.max(0, pending.length - 1 - Math.floor(rand() * 6))]
        // A reader on whatever state is visible now; cursors read a little at once.
        if (rand() < 0.5) {
          const cursor = engine.iterate({ reverse: rand() < 0.3 })
          const reader: Reader = { seq: engine.seq, cursor, read: [] }
          take(cursor, 3, reader.read)
          readers.push(reader)
        } else {
          readers.push({ seq: engine.seq, snapshot: engine.snapshot(), read: [] })
        }
      }
      await Promise.all(pending)
      expect(engine.seq).toBe(80)
      expect(new Set(readers.map((r) => r.seq)).size).toBeGreaterThan(5)
      for (const reader of readers) {
        if (reader.cursor) {
          drain(reader.cursor, reader.read)
          reader.cursor.close()
          const sorted = reader.read.slice().sort((a, b) => Buffer.compare(a[0], b[0]))
          expect(fingerprint(sorted), `a cursor opened at seq ${reader.seq}`).toBe(states[reader.seq])
        } else if (reader.snapshot) {
          expect(reader.snapshot.seq).toBe(reader.seq)
          expect(fingerprint(readAll(engine, reader.snapshot)), `a snapshot taken at seq ${reader.seq}`).toBe(states[reader.seq])
          reader.snapshot.release()
        }
      }
      expect(engine.stats().pinnedSnapshots).toBe(0)
      expect(engine.check()).toEqual([])
      await engine.close()
    })

    it('a cursor whose snapshot is released part-way keeps reading its state through rewrites and compactions', async () => {
      const fs = new MemoryFileSystem()
      const engine = await factory.open(fs, { small: true })
      const key = (i: number) => workloadKey(i)
      await engine.write(Array.from({ length: 600 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(30 + (i % 50), 1) })))
      const snapshot = engine.snapshot()
      const before = readAll(engine, snapshot)
      const forward = engine.iterate({}, snapshot)
      const backward = engine.iterate({ reverse: true }, snapshot)
      const read: [Buffer, Buffer][] = []
      const readBack: [Buffer, Buffer][] = []
      take(forward, 200, read)
      take(backward, 100, readBack)
      snapshot.release()
      for (let round = 2; round < 6; round++) {
        await engine.write(Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? { type: 'del' as const, key: key(i) } : { type: 'put' as const, key: key(i), value: Buffer.alloc(60, round) })))
        await engine.compact()
      }
      expect(drain(forward, read)).toEqual(before)
      // A seek after the rewrites lands in the cursor's own state.
      backward.seek(key(300))
      expect(drain(backward, [])).toEqual(before.filter(([k]) => Buffer.compare(k, key(300)) <= 0).reverse())
      forward.close()
      backward.close()
      expect(engine.stats().pinnedSnapshots).toBe(0)
      expect(engine.check()).toEqual([])
      await engine.close()
    })

    it('a diff over the head, part-way, reads the state it started at through rewrites and compactions, and lets it go when it ends or is abandoned', async () => {
      const fs = new MemoryFileSystem()
      const key = (i: number) => workloadKey(i)
      const first = (await factory.open(fs, { small: true })) as SnapshotEngine
      await first.createSnapshot('empty')
      await first.write(Array.from({ length: 600 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(30 + (i % 50), 1) })))
      await first.close()
      // Reopened, the head's pages are on disk only: the diff reads them as it goes.
      const engine = (await factory.open(fs, { small: true })) as SnapshotEngine
      const value = (i: number) => Buffer.alloc(30 + (i % 50), 1)
      const before = Array.from({ length: 600 }, (_, i): [Buffer, Buffer] => [key(i), value(i)]).sort(([a], [b]) => Buffer.compare(a, b))
      // The named snapshot is a pin of its own.
      const pinned = engine.stats().pinnedSnapshots
      const empty = engine.openSnapshot('empty')
      const asEntry = (change: Change): [Buffer, Buffer] => [Buffer.from(change.key), Buffer.from(change.after ?? Buffer.alloc(0))]
      const changes = engine.diff(empty, undefined)[Symbol.iterator]()
      const read: [Buffer, Buffer][] = []
      for (let i = 0; i < 100; i++) read.push(asEntry(changes.next().value as Change))
      const abandoned = engine.diff(undefined, empty)[Symbol.iterator]()
      abandoned.next()
      for (let round = 2; round < 6; round++) {
        await engine.write(Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? { type: 'del' as const, key: key(i) } : { type: 'put' as const, key: key(i), value: Buffer.alloc(60, round) })))
        await engine.compact()
      }
      for (let next = changes.next(); !next.done; next = changes.next()) read.push(asEntry(next.value))
      expect(read).toEqual(before)
      // A for..of that breaks out of a diff ends it too.
      for (const _ of engine.diff(empty, undefined)) break
      abandoned.return?.()
      empty.release()
      expect(engine.stats().pinnedSnapshots).toBe(pinned)
      expect(engine.check()).toEqual([])
      await engine.close()
    })

    it('close() waits for the writes and compactions queued before it, and every one it waited for is durable', async () => {
      const fs = new MemoryFileSystem()
      const engine = await factory.open(fs, { small: true })
      const { ops, final } = plannedStates(22, 60)
      const rand = seededRandom(22)
      const pending: Promise<void>[] = []
      for (const [i, batch] of ops.entries()) {
        pending.push(engine.write(batch, { sync: rand() < 0.5 }))
        if (i % 15 === 14) pending.push(engine.compact())
      }
      const closing = engine.close()
      await expect(engine.write([{ type: 'put', key: Buffer.from('late'), value: Buffer.from('x') }])).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' })
      await expect(engine.compact()).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' })
      await Promise.all([...pending, closing])
      const reopened = await factory.open(fs, { small: true })
      expect(reopened.seq).toBe(60)
      expect(fingerprint(readAll(reopened))).toBe(final.fingerprint())
      expect(reopened.check()).toEqual([])
      await reopened.close()
    })

    it('close() with cursors and snapshots open stops them with LEVEL_DATABASE_NOT_OPEN, harmlessly, and the next open holds no pins', async () => {
      const fs = new MemoryFileSystem()
      const engine = await factory.open(fs, { small: true })
      const { ops, final } = plannedStates(23, 40)
      for (const batch of ops) await engine.write(batch)
      const snapshot = engine.snapshot()
      const forward = engine.iterate()
      const reverse = engine.iterate({ reverse: true }, snapshot)
      take(forward, 10, [])
      take(reverse, 10, [])
      const untouched = engine.iterate({ gte: workloadKey(100) })
      await engine.close()
      for (const cursor of [forward, reverse, untouched]) {
        expect(() => cursor.next()).toThrow(NOT_OPEN)
        expect(() => cursor.seek(workloadKey(5))).toThrow(NOT_OPEN)
      }
      expect(() => engine.get(workloadKey(1), snapshot)).toThrow(NOT_OPEN)
      expect(() => engine.iterate({}, snapshot)).toThrow(NOT_OPEN)
      expect(() => engine.snapshot()).toThrow(NOT_OPEN)
      await expect(engine.compact()).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' })
      // Cleaning up after a close is harmless, and idempotent.
      for (let i = 0; i < 2; i++) {
        expect(() => snapshot.release()).not.toThrow()
        for (const cursor of [forward, reverse, untouched]) expect(() => cursor.close()).not.toThrow()
        await expect(engine.close()).resolves.toBeUndefined()
      }
      const reopened = await factory.open(fs, { small: true })
      expect(reopened.stats().pinnedSnapshots).toBe(0)
      expect(fingerprint(readAll(reopened))).toBe(final.fingerprint())
      expect(reopened.check()).toEqual([])
      await reopened.close()
    })

    it('an open made while the folder closes is refused with LEVEL_LOCKED, and one made after it succeeds', async () => {
      const fs = new MemoryFileSystem()
      const engine = await factory.open(fs, { small: true })
      const { ops, final } = plannedStates(24, 30)
      const pending = ops.map((batch) => engine.write(batch, { sync: false }))
      const closing = engine.close()
      await expect(factory.open(fs, { small: true })).rejects.toMatchObject({ code: 'LEVEL_LOCKED' })
      await Promise.all([...pending, closing])
      const reopened = await factory.open(fs, { small: true })
      expect(fingerprint(readAll(reopened))).toBe(final.fingerprint())
      expect(reopened.check()).toEqual([])
      await reopened.close()
    })

    it('leaves no file handle open on a real folder after opens, closes with readers open, and failed opens', async () => {
      const root = mkdtempSync(join(tmpdir(), 'strata-handles-'))
      try {
        const descriptorsBefore = openDescriptorCount()
        const dir = join(root, 'db')
        const codes: string[] = []
        const refused = async (open: () => Promise<Engine>) => {
          try {
            const engine = await open()
            await engine.close()
            codes.push('opened')
          } catch (error) {
            codes.push(codeOf(error) ?? 'uncoded')
          }
        }
        // Opens and closes, with snapshots and cursors left open at the close now and then.
        for (let cycle = 0; cycle < 24; cycle++) {
          const engine = await factory.open(new NodeFileSystem(dir, { create: true }), { small: true })
          for (let n = 1; n <= 4; n++) await engine.write(workloadBatch(25, cycle * 4 + n), { sync: n === 4 })
          if (cycle % 3 === 0) {
            engine.snapshot()
            take(engine.iterate(), 2, [])
            await engine.write(workloadBatch(25, 1000 + cycle))
          }
          if (cycle % 5 === 0) await engine.compact()
          // A second open while this one holds the folder.
          await refused(() => factory.open(new NodeFileSystem(dir), { small: true }))
          await engine.close()
        }
        // Opens refused for what the folder holds, or does not.
        const empty = join(root, 'empty')
        await refused(() => factory.open(new NodeFileSystem(empty, { create: true }), { createIfMissing: false }))
        await refused(() => factory.open(new NodeFileSystem(dir), { errorIfExists: true }))
        const damaged = join(root, 'damaged')
        new NodeFileSystem(damaged, { create: true })
        for (const name of readdirSync(dir)) {
          const bytes = readFileSync(join(dir, name))
          for (let i = 0; i < Math.min(bytes.length, 1024); i++) bytes[i] = (bytes[i] as number) ^ 0x5a
          writeFileSync(join(damaged, name), bytes)
        }
        await refused(() => factory.open(new NodeFileSystem(damaged), { small: true }))
        // Opens that fail on the way: creating a database, or recovering one, while the disk fails
        // the k-th write, sync or truncation.
        for (let k = 1; k <= 8; k++) {
          for (const folder of [join(root, `new-${k}`), dir]) {
            let count = 0
            const faulty = new FaultyFileSystem(new NodeFileSystem(folder, { create: true }), () => (++count === k ? 'EIO' : undefined))
            await refused(() => factory.open(faulty, { small: true }))
          }
        }
        const leaked = openHandlesUnder(root)
        const descriptorsAfter = openDescriptorCount()
        console.log(
          `${factory.name} file handles: 24 open/close cycles, ${codes.length} other opens (${[...new Set(codes)].map((c) => `${codes.filter((x) => x === c).length} ${c}`).join(', ')}); ${descriptorsBefore} descriptors before, ${descriptorsAfter} after, ${leaked.length} left open on the database folders`,
        )
        expect(codes).toContain('LEVEL_LOCKED')
        expect(codes).toContain('STRATA_DATABASE_NOT_FOUND')
        expect(codes).toContain('STRATA_DATABASE_EXISTS')
        expect(codes).toContain('LEVEL_CORRUPTION')
        expect(codes).toContain('STRATA_IO_ERROR')
        expect(codes).not.toContain('uncoded')
        expect(leaked).toEqual([])
        // The database is whole after all that.
        const engine = await factory.open(new NodeFileSystem(dir), { small: true })
        expect(engine.check()).toEqual([])
        await engine.close()
      } finally {
        rmSync(root, { recursive: true, force: true })
      }
    })
  })
}
