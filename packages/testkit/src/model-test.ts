import type { Engine, EngineSnapshot, Operation, Range } from '@strata/btree'
import { MemoryFileSystem } from '@strata/storage'
import fc from 'fast-check'
import { expect } from 'vitest'
import type { EngineFactory } from './engine-factory.js'
import { Model } from './model.js'

/** A step of a model run. */
export type Step =
  | { kind: 'batch'; ops: { del: boolean; key: number; size: number }[]; sync: boolean }
  | { kind: 'snapshot' }
  | { kind: 'release'; which: number }
  | { kind: 'read'; which: number; range: RangeSpec }
  | { kind: 'get'; which: number; key: number }
  | { kind: 'reopen' }
  | { kind: 'compact' }

interface RangeSpec {
  lo?: number | undefined
  hi?: number | undefined
  loExclusive: boolean
  hiExclusive: boolean
  reverse: boolean
  limit?: number | undefined
}

const KEYS = 80
const keyOf = (n: number) => Buffer.from(`k${String(n).padStart(3, '0')}`)
/** Values of mixed sizes: mostly small, some past the inline limit of small pages. */
const valueOf = (key: number, size: number, salt: number) => Buffer.alloc(size, (key * 31 + salt) & 0xff)

const rangeSpec: fc.Arbitrary<RangeSpec> = fc.record({
  lo: fc.option(fc.integer({ min: -1, max: KEYS }), { nil: undefined }),
  hi: fc.option(fc.integer({ min: -1, max: KEYS }), { nil: undefined }),
  loExclusive: fc.boolean(),
  hiExclusive: fc.boolean(),
  reverse: fc.boolean(),
  limit: fc.option(fc.nat(30), { nil: undefined }),
})

/** Random steps: batches of puts and deletes, snapshots taken, read and released, reopens, compactions. */
export const steps: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('batch' as const), ops: fc.array(fc.record({ del: fc.boolean(), key: fc.nat(KEYS - 1), size: fc.oneof({ weight: 5, arbitrary: fc.nat(60) }, { weight: 1, arbitrary: fc.integer({ min: 200, max: 3000 }) }) }), { minLength: 1, maxLength: 30 }), sync: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('snapshot' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), which: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('read' as const), which: fc.nat(), range: rangeSpec }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('get' as const), which: fc.nat(), key: fc.nat(KEYS - 1) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const) }) },
  ),
  { maxLength: 40 },
)

function toRange(spec: RangeSpec): Range {
  const range: Range = { reverse: spec.reverse, limit: spec.limit }
  if (spec.lo !== undefined) range[spec.loExclusive ? 'gt' : 'gte'] = keyOf(spec.lo)
  if (spec.hi !== undefined) range[spec.hiExclusive ? 'lt' : 'lte'] = keyOf(spec.hi)
  return range
}

function scan(engine: Engine, range: Range, at?: EngineSnapshot): [Buffer, Buffer][] {
  const cursor = engine.iterate(range, at)
  const out: [Buffer, Buffer][] = []
  for (let e = cursor.next(); e; e = cursor.next()) out.push([Buffer.from(e[0]), Buffer.from(e[1])])
  cursor.close()
  return out
}

/** Runs `steps` on an engine and on the model; every read must agree, and `check()` must stay empty. */
export async function runModel(factory: EngineFactory, run: Step[]): Promise<void> {
  const fs = new MemoryFileSystem()
  let engine = await factory.open(fs, { small: true })
  const head = new Model()
  let snapshots: { snapshot: EngineSnapshot; model: Model }[] = []
  let salt = 0
  try {
    for (const step of run) {
      switch (step.kind) {
        case 'batch': {
          const ops: Operation[] = step.ops.map((o) => (o.del ? { type: 'del', key: keyOf(o.key) } : { type: 'put', key: keyOf(o.key), value: valueOf(o.key, o.size, ++salt) }))
          await engine.write(ops, { sync: step.sync })
          for (const op of ops) op.type === 'del' ? head.del(op.key) : head.put(op.key, op.value)
          break
        }
        case 'snapshot':
          snapshots.push({ snapshot: engine.snapshot(), model: head.clone() })
          break
        case 'release': {
          const victim = snapshots.splice(step.which % Math.max(1, snapshots.length), 1)[0]
          victim?.snapshot.release()
          break
        }
        case 'read': {
          const pick = snapshots.length > 0 && step.which % 2 === 1 ? snapshots[step.which % snapshots.length] : undefined
          const range = toRange(step.range)
          expect(scan(engine, range, pick?.snapshot)).toEqual((pick?.model ?? head).range(range))
          break
        }
        case 'get': {
          const pick = snapshots.length > 0 && step.which % 2 === 1 ? snapshots[step.which % snapshots.length] : undefined
          expect(engine.get(keyOf(step.key), pick?.snapshot)).toEqual((pick?.model ?? head).get(keyOf(step.key)))
          break
        }
        case 'reopen':
          for (const s of snapshots) s.snapshot.release()
          snapshots = []
          expect(engine.check()).toEqual([])
          await engine.close()
          engine = await factory.open(fs, { small: true })
          break
        case 'compact':
          await engine.compact()
          break
      }
    }
    expect(scan(engine, {})).toEqual(head.range())
    for (const s of snapshots) expect(scan(engine, {}, s.snapshot)).toEqual(s.model.range())
    expect(engine.check()).toEqual([])
  } finally {
    await engine.close()
  }
}
