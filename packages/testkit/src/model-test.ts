import type { Engine, EngineSnapshot, NamedSnapshots, Operation, Range } from '@strata/btree'
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
  | { kind: 'name'; which: number }
  | { kind: 'drop'; which: number }
  | { kind: 'restore'; which: number }
  | { kind: 'readNamed'; which: number; range: RangeSpec }
  | { kind: 'diff'; which: number }

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
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('name' as const), which: fc.nat(4) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), which: fc.nat(4) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('restore' as const), which: fc.nat(4) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('readNamed' as const), which: fc.nat(4), range: rangeSpec }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('diff' as const), which: fc.nat(4) }) },
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
  // Named snapshots, where the engine has them: the model keeps each one's state.
  const named = new Map<string, Model>()
  const withNames = (e: Engine): (Engine & NamedSnapshots) | undefined => ('createSnapshot' in e ? (e as Engine & NamedSnapshots) : undefined)
  const nameOf = (which: number) => `snap-${which}`
  try {
    for (const step of run) {
      const names = withNames(engine)
      if (!names && (step.kind === 'name' || step.kind === 'drop' || step.kind === 'restore' || step.kind === 'readNamed' || step.kind === 'diff')) continue
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
          const expected = (pick?.model ?? head).get(keyOf(step.key))
          expect(engine.get(keyOf(step.key), pick?.snapshot)).toEqual(expected)
          if (engine.getAsync) expect(await engine.getAsync(keyOf(step.key), pick?.snapshot)).toEqual(expected)
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
        case 'name':
          if (named.has(nameOf(step.which))) {
            await expect(names?.createSnapshot(nameOf(step.which))).rejects.toMatchObject({ code: 'STRATA_SNAPSHOT_EXISTS' })
          } else {
            const info = await names?.createSnapshot(nameOf(step.which), Buffer.from(`meta ${step.which}`))
            expect(info?.seq).toBe(engine.seq)
            named.set(nameOf(step.which), head.clone())
          }
          break
        case 'drop':
          if (named.delete(nameOf(step.which))) await names?.deleteSnapshot(nameOf(step.which))
          else await expect(names?.deleteSnapshot(nameOf(step.which))).rejects.toMatchObject({ code: 'STRATA_SNAPSHOT_NOT_FOUND' })
          break
        case 'restore': {
          const state = named.get(nameOf(step.which))
          if (!state) break
          await names?.restoreSnapshot(nameOf(step.which))
          head.entries.clear()
          for (const [k, v] of state.entries) head.entries.set(k, v)
          break
        }
        case 'readNamed': {
          const state = named.get(nameOf(step.which))
          if (!state || !names) break
          const snapshot = names.openSnapshot(nameOf(step.which))
          const range = toRange(step.range)
          expect(scan(engine, range, snapshot)).toEqual(state.range(range))
          snapshot.release()
          break
        }
        case 'diff': {
          const state = named.get(nameOf(step.which))
          if (!state || !names) break
          const snapshot = names.openSnapshot(nameOf(step.which))
          const got = [...names.diff(snapshot, undefined)].map((c) => `${c.key.toString('hex')}:${c.before?.toString('hex')}>${c.after?.toString('hex')}`)
          snapshot.release()
          const keys = [...new Set([...state.entries.keys(), ...head.entries.keys()])].sort()
          const expected = keys
            .filter((k) => !(state.entries.get(k)?.equals(head.entries.get(k) ?? Buffer.alloc(0)) && head.entries.has(k)))
            .map((k) => `${k}:${state.entries.get(k)?.toString('hex')}>${head.entries.get(k)?.toString('hex')}`)
          expect(got).toEqual(expected)
          break
        }
      }
    }
    expect(scan(engine, {})).toEqual(head.range())
    for (const s of snapshots) expect(scan(engine, {}, s.snapshot)).toEqual(s.model.range())
    const names = withNames(engine)
    if (names) {
      expect(names.listSnapshots().map((i) => i.name)).toEqual([...named.keys()].sort())
      for (const [name, state] of named) {
        const snapshot = names.openSnapshot(name)
        expect(scan(engine, {}, snapshot)).toEqual(state.range())
        snapshot.release()
      }
    }
    expect(engine.check()).toEqual([])
  } finally {
    await engine.close()
  }
}
