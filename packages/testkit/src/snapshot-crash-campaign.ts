import type { Engine, NamedSnapshots } from '@strata/btree'
import { CrashFileSystem, type CrashMode } from '@strata/storage'
import type { EngineFactory } from './engine-factory.js'
import { Model } from './model.js'

/** What a named-snapshot crash campaign did and found. */
export interface SnapshotCrashReport {
  /** Operations run: batches, snapshot creations, deletions and restores. */
  operations: number
  states: Record<CrashMode, number>
  failures: string[]
}

type SnapshotEngine = Engine & NamedSnapshots

function random(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 2 ** 32
  }
}

function entries(engine: Engine, at?: Parameters<Engine['iterate']>[1]): string {
  const cursor = engine.iterate({}, at)
  const out: string[] = []
  for (let e = cursor.next(); e; e = cursor.next()) out.push(`${e[0].toString('hex')}=${e[1].length}:${e[1].subarray(0, 16).toString('hex')}`)
  cursor.close()
  return out.join(',')
}

/** The whole state an engine shows: the head and every named snapshot. */
function stateOf(engine: SnapshotEngine): string {
  const parts = [`head:${entries(engine)}`]
  for (const info of engine.listSnapshots()) {
    const snapshot = engine.openSnapshot(info.name)
    parts.push(`${info.name}@${info.meta.toString()}:${entries(engine, snapshot)}`)
    snapshot.release()
  }
  return parts.join('|')
}

function modelState(head: Model, named: Map<string, { meta: string; model: Model }>): string {
  const line = (m: Model) =>
    m
      .range()
      .map(([k, v]) => `${k.toString('hex')}=${v.length}:${v.subarray(0, 16).toString('hex')}`)
      .join(',')
  const parts = [`head:${line(head)}`]
  for (const name of [...named.keys()].sort()) {
    const n = named.get(name) as { meta: string; model: Model }
    parts.push(`${name}@${n.meta}:${line(n.model)}`)
  }
  return parts.join('|')
}

/**
 * Named snapshots under crashes: a workload of batches with snapshot creations, deletions and
 * restores (and checkpoints and reclamation, from small engine tuning), then the disk as a crash
 * would leave it at every write/sync boundary, unsynced writes dropped or the last one torn. Each
 * recovered database must show exactly the state (head and every named snapshot) after some
 * operation: at least the last durable one, at most the last one begun.
 */
export async function snapshotCrashCampaign(factory: EngineFactory, options: { operations?: number; seed?: number } = {}): Promise<SnapshotCrashReport> {
  const operations = options.operations ?? 150
  const rand = random(options.seed ?? 7)
  const fs = new CrashFileSystem()
  const engine = (await factory.open(fs, { small: true })) as SnapshotEngine
  const head = new Model()
  const named = new Map<string, { meta: string; model: Model }>()
  const history = [{ startedAt: 0, durableAt: 0, state: modelState(head, named) }]
  const firstPoint = fs.point
  for (let i = 1; i <= operations; i++) {
    const startedAt = fs.point
    const roll = rand()
    const name = `s${Math.floor(rand() * 4)}`
    if (roll < 0.12 && !named.has(name)) {
      await engine.createSnapshot(name, Buffer.from(`op${i}`))
      named.set(name, { meta: `op${i}`, model: head.clone() })
    } else if (roll < 0.18 && named.has(name)) {
      await engine.deleteSnapshot(name)
      named.delete(name)
    } else if (roll < 0.24 && named.has(name)) {
      await engine.restoreSnapshot(name)
      const state = (named.get(name) as { model: Model }).model
      head.entries.clear()
      for (const [k, v] of state.entries) head.entries.set(k, v)
    } else {
      const ops = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => {
        const key = Buffer.from(`key${Math.floor(rand() * 40)}`)
        return rand() < 0.2 ? { type: 'del' as const, key } : { type: 'put' as const, key, value: Buffer.alloc(rand() < 0.05 ? 1500 : Math.floor(rand() * 60), i & 0xff) }
      })
      await engine.write(ops)
      for (const op of ops) op.type === 'del' ? head.del(op.key) : head.put(op.key, op.value)
    }
    history.push({ startedAt, durableAt: fs.point, state: modelState(head, named) })
    if (rand() < 0.03) await engine.compact()
    if (process.env.STRATA_DEBUG) {
      const problems = engine.check()
      if (problems.length > 0) throw new Error(`after operation ${i} (roll ${roll.toFixed(2)}, ${name}): ${problems.join('; ')}`)
    }
  }
  await engine.close()

  const report: SnapshotCrashReport = { operations, states: { drop: 0, torn: 0 }, failures: [] }
  for (const state of fs.crashStates(firstPoint)) {
    const where = `crash at point ${state.point} (${state.mode})`
    let lowest = 0
    let highest = 0
    history.forEach((h, n) => {
      if (h.durableAt <= state.point) lowest = n
      if (h.startedAt < state.point) highest = n
    })
    let recovered: SnapshotEngine
    try {
      recovered = (await factory.open(state.fs, { small: true })) as SnapshotEngine
    } catch (error) {
      report.failures.push(`${where}: open failed: ${process.env.STRATA_DEBUG ? (error as Error).stack : (error as Error).message}`)
      continue
    }
    try {
      const found = stateOf(recovered)
      let match = false
      for (let n = lowest; n <= highest && !match; n++) match = history[n]?.state === found
      if (!match) report.failures.push(`${where}: recovered state is no operation's from ${lowest} to ${highest}`)
      const problems = recovered.check()
      if (problems.length > 0) report.failures.push(`${where}: check: ${problems.join('; ')}`)
    } catch (error) {
      report.failures.push(`${where}: ${(error as Error).stack}`)
    } finally {
      await recovered.close()
    }
    report.states[state.mode]++
  }
  return report
}
