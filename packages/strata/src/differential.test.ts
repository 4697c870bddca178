import { CowEngine } from '@strata/cow-engine'
import { RowEngine } from '@strata/row-engine'
import { MemoryFileSystem } from '@strata/storage'
import type { AbstractChainedBatchWriteOptions, AbstractLevel, AbstractSnapshot } from 'abstract-level'
import fc from 'fast-check'
import { MemoryLevel } from 'memory-level'
import { describe, expect, it } from 'vitest'
import type { EngineOptions } from './engines.js'
import { StrataLevel } from './strata-level.js'

/** Small pages, segments and checkpoints, so short runs reach splits, out-of-line values, checkpoints and reclamation. */
const SMALL: EngineOptions = { pageSize: 512, segmentBytes: 16 * 1024, checkpoint: { minLogBytes: 2048, maxLogBytes: 16 * 1024 } }

type Db = AbstractLevel<Buffer | Uint8Array | string, Buffer, string>

interface RangeSpec {
  gt?: Buffer | undefined
  gte?: Buffer | undefined
  lt?: Buffer | undefined
  lte?: Buffer | undefined
  reverse: boolean
  limit?: number | undefined
}

type WriteOp = { type: 'put'; key: Buffer; value: string } | { type: 'del'; key: Buffer }

/** A step of a differential run; `which` picks the head or one of the open snapshots. */
type Step =
  | { kind: 'put'; key: Buffer; value: string; sync: boolean }
  | { kind: 'del'; key: Buffer }
  | { kind: 'batch'; ops: WriteOp[]; chained: boolean; sync: boolean }
  | { kind: 'snapshot' }
  | { kind: 'closeSnapshot'; which: number }
  | { kind: 'get'; method: 'get' | 'getSync' | 'has'; key: Buffer; which: number }
  | { kind: 'getMany'; method: 'getMany' | 'hasMany'; keys: Buffer[]; which: number }
  | { kind: 'iterate'; mode: 'iterator' | 'keys' | 'values'; range: RangeSpec; which: number; skip: number; seek?: Buffer | undefined }
  | { kind: 'clear'; range: RangeSpec; which: number }
  | { kind: 'reopen' }
  /** Writes and gets issued at once, each before the one before resolves: the writes join groups, the gets answer as of their calls. */
  | { kind: 'concurrent'; calls: ConcurrentCall[] }

/** A call of a {@link Step} of kind 'concurrent'. */
type ConcurrentCall = { kind: 'put'; key: Buffer; value: string; sync: boolean } | { kind: 'del'; key: Buffer } | { kind: 'batch'; ops: WriteOp[]; sync: boolean } | { kind: 'get'; key: Buffer }

/** Keys over a small alphabet that includes 0x00 and 0xff, so byte order and prefixes matter. */
const key = fc.array(fc.constantFrom(0x00, 0x01, 0x61, 0x62, 0xff), { maxLength: 3 }).map((bytes) => Buffer.from(bytes))
/** Mostly small values; some long enough to be stored out of line on 512-byte pages. */
const value = fc.oneof({ weight: 6, arbitrary: fc.string({ maxLength: 12 }) }, { weight: 1, arbitrary: fc.integer({ min: 200, max: 1200 }).map((n) => 'v'.repeat(n)) })
const writeOp: fc.Arbitrary<WriteOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('put' as const), key, value }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('del' as const), key }) },
)
const range: fc.Arbitrary<RangeSpec> = fc.record(
  { gt: key, gte: key, lt: key, lte: key, reverse: fc.boolean(), limit: fc.integer({ min: -1, max: 8 }) },
  { requiredKeys: ['reverse'] },
)

const concurrentCall: fc.Arbitrary<ConcurrentCall> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('put' as const), key, value, sync: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('del' as const), key }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('batch' as const), ops: fc.array(writeOp, { minLength: 1, maxLength: 6 }), sync: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('get' as const), key }) },
)

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('concurrent' as const), calls: fc.array(concurrentCall, { minLength: 2, maxLength: 24 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key, value, sync: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), key }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('batch' as const), ops: fc.array(writeOp, { minLength: 1, maxLength: 12 }), chained: fc.boolean(), sync: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('snapshot' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('closeSnapshot' as const), which: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('get' as const), method: fc.constantFrom('get' as const, 'getSync' as const, 'has' as const), key, which: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('getMany' as const), method: fc.constantFrom('getMany' as const, 'hasMany' as const), keys: fc.array(key, { maxLength: 5 }), which: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record(
      { kind: fc.constant('iterate' as const), mode: fc.constantFrom('iterator' as const, 'keys' as const, 'values' as const), range, which: fc.nat(), skip: fc.nat(3), seek: key },
      { requiredKeys: ['kind', 'mode', 'range', 'which', 'skip'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const), range, which: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const) }) },
)

const hex = (data: unknown) => (Buffer.isBuffer(data) ? data.toString('hex') : data)

/** The same database twice: Strata under test, memory-level as the reference, with snapshots taken in step. */
class Pair {
  snapshots: [AbstractSnapshot, AbstractSnapshot][] = []

  constructor(
    readonly strata: Db,
    readonly memory: Db,
  ) {}

  /** The snapshot pair `which` names, or none (the head) for one extra value of `which`. */
  pick(which: number): [AbstractSnapshot, AbstractSnapshot] | undefined {
    return this.snapshots[which % (this.snapshots.length + 1)]
  }

  /** Runs a read on both at the same state; they must agree. */
  async read(which: number, body: (db: Db, snapshot: AbstractSnapshot | undefined) => Promise<unknown>): Promise<void> {
    const pick = this.pick(which)
    const [ours, theirs] = await Promise.all([body(this.strata, pick?.[0]), body(this.memory, pick?.[1])])
    expect(ours).toEqual(theirs)
  }

  async both(body: (db: Db) => Promise<unknown>): Promise<void> {
    await Promise.all([body(this.strata), body(this.memory)])
  }
}

function rangeOptions(spec: RangeSpec, snapshot: AbstractSnapshot | undefined): Record<string, unknown> {
  const options: Record<string, unknown> = { ...spec }
  if (snapshot) options.snapshot = snapshot
  return options
}

async function iterate(db: Db, s: Extract<Step, { kind: 'iterate' }>, snapshot: AbstractSnapshot | undefined): Promise<unknown[]> {
  const options = rangeOptions(s.range, snapshot)
  const iterator = s.mode === 'keys' ? db.keys(options) : s.mode === 'values' ? db.values(options) : db.iterator(options)
  try {
    const seen: unknown[] = []
    for (let i = 0; i < s.skip; i++) seen.push(await iterator.next())
    if (s.seek) iterator.seek(s.seek)
    const rest = s.skip % 2 === 0 ? await iterator.all() : await iterator.nextv(5)
    return [...seen, ...rest].map((item) => (Array.isArray(item) ? item.map(hex) : hex(item)))
  } finally {
    await iterator.close()
  }
}

/** Issues `calls` on `db` at once, in order; resolves with what the gets answered, once every call has. */
function issueAtOnce(db: Db, calls: ConcurrentCall[]): Promise<unknown[]> {
  return Promise.all(
    calls.map((c) => {
      switch (c.kind) {
        case 'put':
          return db.put(c.key, c.value, { sync: c.sync } as object)
        case 'del':
          return db.del(c.key)
        case 'batch':
          return db.batch(c.ops, { sync: c.sync } as object)
        case 'get':
          return db.get(c.key)
      }
    }),
  )
}

async function run(pair: Pair, s: Step): Promise<void> {
  switch (s.kind) {
    case 'concurrent': {
      // A get issued after writes not yet acknowledged sees some prefix of them, in their order (a
      // write becomes visible when its group commits; memory-level applies each at its call): at
      // least the state before the step, at most the state after the writes issued before it.
      const state = new Map((await pair.memory.iterator().all()).map(([k, v]) => [hex(k) as string, v]))
      const allowed: (string | undefined)[][] = []
      const states = [new Map(state)]
      for (const c of s.calls) {
        if (c.kind === 'get') {
          allowed.push(states.map((m) => m.get(hex(c.key) as string)))
          continue
        }
        const ops: WriteOp[] = c.kind === 'batch' ? c.ops : c.kind === 'put' ? [{ type: 'put', key: c.key, value: c.value }] : [{ type: 'del', key: c.key }]
        for (const op of ops) op.type === 'put' ? state.set(hex(op.key) as string, op.value) : state.delete(hex(op.key) as string)
        states.push(new Map(state))
      }
      const [ours] = await Promise.all([issueAtOnce(pair.strata, s.calls), issueAtOnce(pair.memory, s.calls)])
      const answers = ours.filter((_, i) => s.calls[i]?.kind === 'get')
      answers.forEach((answer, i) => expect(allowed[i]).toContain(answer))
      return
    }
    case 'put':
      return pair.both((db) => db.put(s.key, s.value, { sync: s.sync } as object))
    case 'del':
      return pair.both((db) => db.del(s.key))
    case 'batch':
      if (!s.chained) return pair.both((db) => db.batch(s.ops, { sync: s.sync } as object))
      return pair.both((db) => {
        const batch = db.batch()
        for (const op of s.ops) op.type === 'put' ? batch.put(op.key, op.value) : batch.del(op.key)
        return batch.write({ sync: s.sync } as AbstractChainedBatchWriteOptions)
      })
    case 'snapshot':
      pair.snapshots.push([pair.strata.snapshot(), pair.memory.snapshot()])
      return
    case 'closeSnapshot': {
      const closed = pair.snapshots.splice(s.which % Math.max(1, pair.snapshots.length), 1)[0]
      if (closed) await Promise.all(closed.map((snapshot) => snapshot.close()))
      return
    }
    case 'get':
      return pair.read(s.which, async (db, snapshot) => {
        const options = snapshot ? { snapshot } : {}
        if (s.method === 'has') return db.has(s.key, options)
        return s.method === 'getSync' ? db.getSync(s.key, options) : db.get(s.key, options)
      })
    case 'getMany':
      return pair.read(s.which, (db, snapshot) => (s.method === 'hasMany' ? db.hasMany(s.keys, snapshot ? { snapshot } : {}) : db.getMany(s.keys, snapshot ? { snapshot } : {})))
    case 'iterate':
      return pair.read(s.which, (db, snapshot) => iterate(db, s, snapshot))
    case 'clear': {
      const pick = pair.pick(s.which)
      await Promise.all([pair.strata.clear(rangeOptions(s.range, pick?.[0])), pair.memory.clear(rangeOptions(s.range, pick?.[1]))])
      return
    }
    case 'reopen':
      // Closing a database closes its snapshots.
      pair.snapshots = []
      await pair.both((db) => db.close())
      await pair.both((db) => db.open())
      return
  }
}

/** Runs `steps` on both databases; every read agrees, the whole contents agree at the end, and the engine checks clean. */
async function differential(steps: Step[], engine: 'row' | 'cow', cacheSize?: number): Promise<void> {
  const fs = new MemoryFileSystem()
  const pair = new Pair(
    new StrataLevel<Buffer, string>('differential', { fs, engine, engineOptions: SMALL, cacheSize, keyEncoding: 'buffer', valueEncoding: 'utf8' }),
    new MemoryLevel<Buffer, string>({ keyEncoding: 'buffer', valueEncoding: 'utf8' }),
  )
  try {
    await pair.both((db) => db.open())
    for (const s of steps) await run(pair, s)
    await pair.read(pair.snapshots.length, (db) => db.iterator().all())
    for (let i = 0; i < pair.snapshots.length; i++) await pair.read(i, (db, snapshot) => db.iterator({ snapshot }).all())
  } finally {
    await pair.both((db) => db.close())
  }
  const reopened = engine === 'row' ? await RowEngine.open({ fs, ...SMALL }) : await CowEngine.open({ fs, pageSize: SMALL.pageSize as number, ...(SMALL.checkpoint ? { checkpoint: SMALL.checkpoint } : {}) })
  try {
    expect(reopened.check()).toEqual([])
  } finally {
    await reopened.close()
  }
}

describe.each(['row', 'cow'] as const)('StrataLevel (%s engine) against memory-level', (engine) => {
  it('agrees on every read over 500 random runs of writes (runs of them issued at once, with gets among them), snapshots, iterators, clears and reopens', async () => {
    let runs = 0
    let steps = 0
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60, size: 'large' }), async (run) => {
        runs++
        steps += run.length
        await differential(run, engine)
      }),
      { numRuns: 500 },
    )
    console.log(`StrataLevel (${engine} engine) vs memory-level: ${runs} runs, ${steps} steps, every read agreed`)
    expect(runs).toBeGreaterThanOrEqual(500)
  })
})

describe.each(['row', 'cow'] as const)('StrataLevel (%s engine) with a cache of a few pages against memory-level', (engine) => {
  it('agrees on every read over 200 random runs, pages evicted all the time', async () => {
    // About six 512-byte pages: nearly every read of a page reads it from the file.
    const cacheSize = 8 * 1024
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60, size: 'large' }), (run) => differential(run, engine, cacheSize)),
      { numRuns: 200 },
    )
  })
})
