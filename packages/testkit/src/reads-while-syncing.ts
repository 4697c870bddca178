import type { Engine, EngineCursor, EngineSnapshot, Operation } from '@strata/btree'
import { type BlockFile, ErrorCode, MemoryFileSystem, StrataError } from '@strata/storage'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type EngineFactory, readAll } from './engine-factory.js'
import { Model } from './model.js'

/** `file` with its `sync` replaced by `sync`: for a test that decides when syncs complete. */
export function withSync(file: BlockFile, sync: () => Promise<void>): BlockFile {
  return {
    name: file.name,
    size: () => file.size(),
    links: () => file.links(),
    read: (offset, length, purpose) => file.read(offset, length, purpose),
    readInto: (offset, target, purpose) => file.readInto(offset, target, purpose),
    write: (offset, data, purpose) => file.write(offset, data, purpose),
    truncate: (size) => file.truncate(size),
    close: () => file.close(),
    sync,
  }
}

/**
 * A folder in memory whose file syncs a test can hold: while held, a sync waits until the test
 * releases it (it then goes through) or fails it (it rejects, as a failing disk's would).
 */
export class HeldSyncFileSystem extends MemoryFileSystem {
  #held = false
  #waiting: { resolve: () => void; reject: (error: Error) => void }[] = []

  /** Syncs from now on wait for `release` or `fail`. */
  hold(): void {
    this.#held = true
  }

  /** How many syncs are waiting. */
  get waiting(): number {
    return this.#waiting.length
  }

  /** Lets every waiting sync go through, and later ones at once. */
  release(): void {
    this.#held = false
    for (const w of this.#waiting.splice(0)) w.resolve()
  }

  /** Fails every waiting sync with `error`; later ones go through. */
  fail(error: Error): void {
    this.#held = false
    for (const w of this.#waiting.splice(0)) w.reject(error)
  }

  override open(name: string, options?: { create?: boolean }): BlockFile {
    const file = super.open(name, options)
    return withSync(file, async () => {
      if (this.#held) await new Promise<void>((resolve, reject) => this.#waiting.push({ resolve, reject }))
      return file.sync()
    })
  }
}

/** Lets queued work run until a sync waits and everything else has settled around it. */
async function untilSyncWaits(fs: HeldSyncFileSystem): Promise<void> {
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve))
  for (let i = 0; i < 1000 && fs.waiting === 0; i++) await tick()
  if (fs.waiting === 0) throw new Error('no sync started')
  for (let i = 0; i < 20; i++) await tick()
}

const b = (s: string) => Buffer.from(s)
const key = (n: number) => b(`key:${String(n).padStart(3, '0')}`)

/** Every entry of a cursor from where it stands, then closes it. */
function drain(cursor: EngineCursor): [Buffer, Buffer][] {
  const out: [Buffer, Buffer][] = []
  for (let e = cursor.next(); e; e = cursor.next()) out.push([Buffer.from(e[0]), Buffer.from(e[1])])
  cursor.close()
  return out
}

/** What a reader does while a synced batch's sync waits. */
type Read = { get: number } | 'cursor' | 'kept cursor' | 'snapshot' | { release: number }

interface Round {
  ops: { del: boolean; k: number; size: number }[]
  reads: Read[]
  /** Whether the round ends with a full scan, which keeps the state it reads (as any cursor does). */
  scan: boolean
}

const KEYS = 40
/** Value sizes: mostly inline, sometimes past a small page's inline limit, so kept out of line. */
const valueSize = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 40 }) }, { weight: 1, arbitrary: fc.constant(150) })
const op = (size: fc.Arbitrary<number>) => fc.record({ del: fc.nat(3).map((n) => n === 0), k: fc.nat(KEYS - 1), size })
const rounds = fc.array(
  fc.record({
    // Half the batches hold only short values: an engine may treat those otherwise.
    ops: fc.oneof(fc.array(op(valueSize), { minLength: 1, maxLength: 30 }), fc.array(op(fc.integer({ min: 0, max: 40 })), { minLength: 1, maxLength: 30 })),
    reads: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: fc.record({ get: fc.nat(KEYS - 1) }) },
        { weight: 1, arbitrary: fc.constant<Read>('cursor') },
        { weight: 1, arbitrary: fc.constant<Read>('kept cursor') },
        { weight: 1, arbitrary: fc.constant<Read>('snapshot') },
        { weight: 1, arbitrary: fc.record({ release: fc.nat(7) }) },
      ),
      { maxLength: 8 },
    ),
    scan: fc.boolean(),
  }),
  { minLength: 1, maxLength: 10 },
)

/**
 * One run: each round writes a synced batch and, while its sync waits, reads as the round says;
 * every read must show the state before the batch. Once the batch is acknowledged, the head shows
 * it and what readers kept still shows the state they took.
 */
async function runRounds(factory: EngineFactory, preload: number, run: Round[]): Promise<void> {
  const fs = new HeldSyncFileSystem()
  let engine: Engine = await factory.open(fs, { small: true })
  const model = new Model()
  const kept: { snapshot: EngineSnapshot; entries: [Buffer, Buffer][] }[] = []
  try {
    // Few keys at first leave a root the first batches split; many, a deeper tree.
    const initial = Array.from({ length: preload }, (_, k) => ({ type: 'put' as const, key: key(k), value: b(`initial ${k}`) }))
    if (initial.length > 0) await engine.write(initial)
    model.apply(initial)
    for (const [r, round] of run.entries()) {
      const ops: Operation[] = round.ops.map(({ del, k, size }, i) =>
        del ? { type: 'del', key: key(k) } : { type: 'put', key: key(k), value: Buffer.alloc(size, `${r}.${i}.`) },
      )
      const { written } = await startSyncedWrite(fs, engine, ops)
      const cursors: { cursor: EngineCursor; entries: [Buffer, Buffer][] }[] = []
      for (const read of round.reads) {
        if (read === 'cursor') expect(readAll(engine)).toEqual(model.range())
        else if (read === 'kept cursor') cursors.push({ cursor: engine.iterate(), entries: model.range() })
        else if (read === 'snapshot') kept.push({ snapshot: engine.snapshot(), entries: model.range() })
        else if ('get' in read) expect(engine.get(key(read.get))).toEqual(model.get(key(read.get)))
        else if (kept.length > 0) kept.splice(read.release % kept.length, 1)[0]?.snapshot.release()
      }
      expect(engine.stats().liveBytes).toBe([...model.entries].reduce((sum, [hex, value]) => sum + hex.length / 2 + value.length, 0))
      fs.release()
      await written
      model.apply(ops)
      for (let k = 0; k < KEYS; k++) expect(engine.get(key(k))).toEqual(model.get(key(k)))
      if (round.scan) expect(readAll(engine)).toEqual(model.range())
      for (const { cursor, entries } of cursors) expect(drain(cursor)).toEqual(entries)
      for (const { snapshot, entries } of kept) expect(readAll(engine, snapshot)).toEqual(entries)
      expect(engine.check()).toEqual([])
    }
    for (const { snapshot } of kept.splice(0)) snapshot.release()
    await engine.close()
    engine = await factory.open(fs, { small: true })
    expect(readAll(engine)).toEqual(model.range())
    expect(engine.check()).toEqual([])
  } finally {
    fs.release()
    await engine.close()
  }
}

/**
 * A synced batch is never visible before it is durable, though an engine may do its work while
 * the sync runs: reads, cursors and snapshots taken before the sync ends show the state before
 * the batch; if the sync fails, the batch never shows.
 */
/** An engine on a folder whose syncs the test holds; `reopen` closes it and opens it again. */
interface Held {
  readonly fs: HeldSyncFileSystem
  engine: Engine
  reopen(): Promise<Engine>
}

/** Runs `body` on a new small engine in a {@link HeldSyncFileSystem}, and closes it whatever happens. */
async function withHeldSyncs(factory: EngineFactory, body: (held: Held) => Promise<void>): Promise<void> {
  const fs = new HeldSyncFileSystem()
  const held: Held = {
    fs,
    engine: await factory.open(fs, { small: true }),
    async reopen() {
      await held.engine.close()
      held.engine = await factory.open(fs, { small: true })
      return held.engine
    },
  }
  try {
    await body(held)
  } finally {
    fs.release()
    await held.engine.close()
  }
}

/** Starts a synced write of `ops` with syncs held, and returns once its sync waits, with the write's promise. */
async function startSyncedWrite(fs: HeldSyncFileSystem, engine: Engine, ops: Operation[]): Promise<{ written: Promise<void> }> {
  fs.hold()
  const written = engine.write(ops, { sync: true })
  // Settled by the test later; until then a rejection is not unhandled.
  written.catch(() => undefined)
  await untilSyncWaits(fs)
  return { written }
}

/** Writes 100 keys, and returns them as the model holds them (not read back: a cursor would keep the state readers read). */
async function hundredKeys(engine: Engine): Promise<[Buffer, Buffer][]> {
  const entries = Array.from({ length: 100 }, (_, i): [Buffer, Buffer] => [key(i), b(`before ${i}`)])
  await engine.write(entries.map(([k, value]) => ({ type: 'put' as const, key: k, value })))
  return entries
}

export function readsWhileSyncing(factory: EngineFactory): void {
  describe(`${factory.name}: reads while a synced batch's sync runs`, () => {
    it('get, cursors and snapshots see the state before the batch until it is durable, and keep it after', async () => {
      await withHeldSyncs(factory, async (held) => {
        const { engine, fs } = held
        const before = await hundredKeys(engine)
        const { written } = await startSyncedWrite(fs, engine, [
          { type: 'put', key: key(5), value: b('first') },
          { type: 'put', key: b('new key'), value: b('new') },
          { type: 'del', key: key(10) },
          { type: 'put', key: key(5), value: b('second') },
          { type: 'del', key: b('never there') },
        ])
        expect(engine.get(key(5))?.toString()).toBe('before 5')
        expect(engine.get(b('new key'))).toBeUndefined()
        expect(engine.get(key(10))?.toString()).toBe('before 10')
        const cursor = engine.iterate()
        const snapshot = engine.snapshot()
        expect(readAll(engine, snapshot)).toEqual(before)
        expect(engine.get(key(5))?.toString()).toBe('before 5')
        fs.release()
        await written
        expect(engine.get(key(5))?.toString()).toBe('second')
        expect(engine.get(b('new key'))?.toString()).toBe('new')
        expect(engine.get(key(10))).toBeUndefined()
        expect(drain(cursor)).toEqual(before)
        expect(readAll(engine, snapshot)).toEqual(before)
        snapshot.release()
        expect(engine.check()).toEqual([])
      })
    })

    it('a batch that splits the root while its sync runs leaves every other key where a reader finds it', async () => {
      await withHeldSyncs(factory, async (held) => {
        const { engine, fs } = held
        const old = [key(500), key(501), key(502)]
        await engine.write(old.map((k) => ({ type: 'put' as const, key: k, value: b(`old ${k}`) })))
        const batch = Array.from({ length: 60 }, (_, i) => ({ type: 'put' as const, key: key(i), value: Buffer.alloc(40, i) }))
        const { written } = await startSyncedWrite(fs, engine, batch)
        for (const k of old) expect(engine.get(k)?.toString()).toBe(`old ${k}`)
        expect(engine.get(key(0))).toBeUndefined()
        expect(readAll(engine)).toEqual(old.map((k) => [k, b(`old ${k}`)]))
        fs.release()
        await written
        for (const k of old) expect(engine.get(k)?.toString()).toBe(`old ${k}`)
        expect(readAll(engine)).toHaveLength(63)
        expect(engine.check()).toEqual([])
      })
    })

    it('a batch whose sync fails never shows: the write rejects, and reads go on from the state before it', async () => {
      await withHeldSyncs(factory, async (held) => {
        let engine = held.engine
        const before = await hundredKeys(engine)
        const { written } = await startSyncedWrite(held.fs, held.engine, [
          { type: 'put', key: key(5), value: b('lost') },
          { type: 'put', key: b('new key'), value: b('lost') },
          { type: 'del', key: key(10) },
        ])
        // As a real folder's failed fdatasync reports it.
        held.fs.fail(new StrataError(ErrorCode.IO_ERROR, 'syncing seg failed (EIO)', { cause: Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }) }))
        await expect(written).rejects.toMatchObject({ code: 'STRATA_IO_ERROR' })
        expect(engine.get(key(5))?.toString()).toBe('before 5')
        expect(engine.get(b('new key'))).toBeUndefined()
        expect(engine.get(key(10))?.toString()).toBe('before 10')
        expect(readAll(engine)).toEqual(before)
        expect(engine.check()).toEqual([])
        await expect(engine.write([{ type: 'put', key: key(1), value: b('x') }])).rejects.toMatchObject({ code: 'STRATA_IO_ERROR' })
        // The batch reached the file before its sync failed: after a reopen it is there or not, whole.
        engine = await held.reopen()
        const after = readAll(engine)
        const whole = engine.get(key(5))?.toString() === 'lost'
        expect(engine.get(b('new key'))?.toString()).toBe(whole ? 'lost' : undefined)
        if (!whole) expect(after).toEqual(before)
        expect(engine.check()).toEqual([])
      })
    })

    it('a value kept out of line comes back whole when a reader keeps the state before the batch that replaced it', async () => {
      await withHeldSyncs(factory, async (held) => {
        const large = Buffer.alloc(3000, 'large value ')
        let engine = held.engine
        await engine.write([
          { type: 'put', key: key(1), value: large },
          { type: 'put', key: key(2), value: b('short') },
        ])
        const { written } = await startSyncedWrite(held.fs, held.engine, [{ type: 'put', key: key(1), value: b('now short') }])
        const snapshot = engine.snapshot()
        expect(engine.get(key(1))).toEqual(large)
        held.fs.release()
        await written
        expect(engine.get(key(1))?.toString()).toBe('now short')
        expect(engine.get(key(1), snapshot)).toEqual(large)
        expect(engine.check()).toEqual([])
        snapshot.release()
        await engine.compact()
        expect(engine.check()).toEqual([])
        engine = await held.reopen()
        expect(engine.get(key(1))?.toString()).toBe('now short')
        expect(engine.check()).toEqual([])
      })
    })

    it('a batch taken back out for a reader, whose sync then fails, leaves out-of-line values as they were', async () => {
      await withHeldSyncs(factory, async (held) => {
        const { engine } = held
        const large = Buffer.alloc(3000, 'large value ')
        await engine.write([{ type: 'put', key: key(1), value: large }])
        const { written } = await startSyncedWrite(held.fs, held.engine, [{ type: 'put', key: key(1), value: b('lost') }])
        const cursor = engine.iterate()
        held.fs.fail(new StrataError(ErrorCode.IO_ERROR, 'syncing seg failed (EIO)'))
        await expect(written).rejects.toMatchObject({ code: 'STRATA_IO_ERROR' })
        expect(drain(cursor)).toEqual([[key(1), large]])
        expect(engine.get(key(1))).toEqual(large)
        expect(engine.check()).toEqual([])
      })
    })

    it('agrees with the model over 150 random runs of batches with reads while each one syncs', async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(KEYS), rounds, (preload, run) => runRounds(factory, preload, run)),
        { numRuns: 150 },
      )
    })
  })
}
