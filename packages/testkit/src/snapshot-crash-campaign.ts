import type { Engine, NamedSnapshots } from '@strata/btree'
import { CrashFileSystem } from '@strata/storage'
import { type CrashTally, emptyTally, tallyState } from './crash-tally.js'
import type { EngineFactory } from './engine-factory.js'
import { Model } from './model.js'

/** What a named-snapshot crash campaign did and found. */
export interface SnapshotCrashReport {
  /** Operations run: batches, snapshot creations, deletions and restores. */
  operations: number
  /** Operations issued while an earlier one was still in flight (not awaited). */
  concurrent: number
  tally: CrashTally
  /** Distinct disks opened and checked (see CrashReport.recoveries). */
  recoveries: number
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
 * restores (and checkpoints and reclamation, from small engine tuning), issued in runs of one to
 * three without awaiting the one before, then the disk as a power loss would leave it at every
 * event boundary of the crash file system's unkind model (syncs in flight, unsynced writes lost,
 * torn or reordered, directory changes lost). Each recovered database must show exactly the state
 * (head and every named snapshot) after some operation: at least the last durable one, at most the
 * last one begun.
 */
export async function snapshotCrashCampaign(factory: EngineFactory, options: { operations?: number; seed?: number } = {}): Promise<SnapshotCrashReport> {
  const operations = options.operations ?? 150
  const rand = random(options.seed ?? 7)
  const fs = new CrashFileSystem({ seed: options.seed ?? 7 })
  const engine = (await factory.open(fs, { small: true })) as SnapshotEngine
  const head = new Model()
  const named = new Map<string, { meta: string; model: Model }>()
  const history: { startedAt: number; durableAt: number; state: string }[] = [{ startedAt: 0, durableAt: 0, state: modelState(head, named) }]
  const firstPoint = fs.point
  let concurrent = 0
  for (let i = 1; i <= operations; ) {
    // The engine runs operations in the order they are issued, so the model follows that order.
    const run = rand() < 0.4 ? 2 + Math.floor(rand() * 2) : 1
    const pending: Promise<unknown>[] = []
    for (let k = 0; k < run && i <= operations; k++, i++) {
      if (k > 0) concurrent++
      const entry = { startedAt: fs.point, durableAt: Number.POSITIVE_INFINITY, state: '' }
      const roll = rand()
      const name = `s${Math.floor(rand() * 4)}`
      let done: Promise<unknown>
      if (roll < 0.12 && !named.has(name)) {
        done = engine.createSnapshot(name, Buffer.from(`op${i}`))
        named.set(name, { meta: `op${i}`, model: head.clone() })
      } else if (roll < 0.18 && named.has(name)) {
        done = engine.deleteSnapshot(name)
        named.delete(name)
      } else if (roll < 0.24 && named.has(name)) {
        done = engine.restoreSnapshot(name)
        const state = (named.get(name) as { model: Model }).model
        head.entries.clear()
        for (const [k, v] of state.entries) head.entries.set(k, v)
      } else {
        const ops = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => {
          const key = Buffer.from(`key${Math.floor(rand() * 40)}`)
          return rand() < 0.2 ? { type: 'del' as const, key } : { type: 'put' as const, key, value: Buffer.alloc(rand() < 0.05 ? 1500 : Math.floor(rand() * 60), i & 0xff) }
        })
        done = engine.write(ops)
        for (const op of ops) op.type === 'del' ? head.del(op.key) : head.put(op.key, op.value)
      }
      entry.state = modelState(head, named)
      history.push(entry)
      pending.push(
        done.then(() => {
          entry.durableAt = fs.point
        }),
      )
    }
    await Promise.all(pending)
    if (rand() < 0.03) await engine.compact()
    if (process.env.STRATA_DEBUG) {
      const problems = engine.check()
      if (problems.length > 0) throw new Error(`after operation ${i - 1}: ${problems.join('; ')}`)
    }
  }
  await engine.close()

  const report: SnapshotCrashReport = { operations, concurrent, tally: emptyTally(), recoveries: 0, failures: [] }
  const checked = new Set<string>()
  for (const state of fs.crashStates(firstPoint)) {
    const where = `crash at point ${state.point} (${state.mode})`
    let lowest = 0
    let highest = 0
    history.forEach((h, n) => {
      if (h.durableAt <= state.point) lowest = n
      if (h.startedAt < state.point) highest = n
    })
    tallyState(report.tally, state)
    const key = `${state.digest}@${lowest}-${highest}`
    if (checked.has(key)) continue
    checked.add(key)
    report.recoveries++
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
  }
  return report
}
