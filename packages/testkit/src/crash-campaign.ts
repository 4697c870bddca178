import type { Engine, EngineSnapshot, Operation } from '@strata/btree'
import { CrashFileSystem, type CrashMode } from '@strata/storage'
import { type EngineFactory, fingerprint, readAll } from './engine-factory.js'
import { Model } from './model.js'

/** What a crash campaign did and found. */
export interface CrashReport {
  commits: number
  /** Crash states recovered and checked, by mode. */
  states: Record<CrashMode, number>
  /** Write and sync events the workload made: the crash points. */
  points: number
  /** Problems found (empty when every state recovered correctly). */
  failures: string[]
}

interface Commit {
  /** Crash point before the write began: a crash before it cannot show the commit. */
  startedAt: number
  /** Crash point once the write resolved durably; undefined for sync: false commits. */
  durableAt: number | undefined
  /** The whole state after this commit. */
  state: string
}

/** A small deterministic pseudo-random generator, so a campaign is reproducible from its seed. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 2 ** 32
  }
}

/**
 * Runs a workload of `commits` batches on a crash-simulating file system (with snapshots taken
 * and released, compactions, out-of-line values and sync: false commits mixed in), then rebuilds
 * the disk as a crash would leave it at every write/sync boundary, with unsynced writes dropped
 * and separately with the last write torn. Each state must recover to exactly the state after
 * some commit: at least the last durable one, at most the last one begun; and `check()` must be
 * empty.
 */
export async function crashCampaign(factory: EngineFactory, options: { commits?: number; seed?: number } = {}): Promise<CrashReport> {
  const commits = options.commits ?? 200
  const rand = random(options.seed ?? 42)
  const fs = new CrashFileSystem()
  const engine = await factory.open(fs, { small: true })
  const model = new Model()
  const history: Commit[] = [{ startedAt: 0, durableAt: 0, state: model.fingerprint() }]
  const snapshots: EngineSnapshot[] = []
  const firstPoint = fs.point
  for (let i = 1; i <= commits; i++) {
    const ops: Operation[] = []
    const count = 1 + Math.floor(rand() * 8)
    for (let j = 0; j < count; j++) {
      const key = Buffer.from(`key${Math.floor(rand() * 60)}`)
      if (rand() < 0.2) ops.push({ type: 'del', key })
      else ops.push({ type: 'put', key, value: Buffer.alloc(rand() < 0.05 ? 2000 : Math.floor(rand() * 80), i & 0xff) })
    }
    for (const op of ops) op.type === 'del' ? model.del(op.key) : model.put(op.key, op.value)
    const sync = rand() < 0.85
    const startedAt = fs.point
    await engine.write(ops, { sync })
    history.push({ startedAt, durableAt: sync ? fs.point : undefined, state: model.fingerprint() })
    if (rand() < 0.08) snapshots.push(engine.snapshot())
    if (snapshots.length > 0 && rand() < 0.06) snapshots.shift()?.release()
    if (rand() < 0.03) await engine.compact()
  }
  for (const s of snapshots) s.release()
  await engine.close()

  const report: CrashReport = { commits, states: { drop: 0, torn: 0 }, points: fs.point - firstPoint, failures: [] }
  for (const state of fs.crashStates(firstPoint)) {
    const where = `crash at point ${state.point} (${state.mode})`
    // The newest commit that was durable before the crash, and the newest that had begun.
    let lowest = 0
    let highest = 0
    history.forEach((c, n) => {
      if (c.durableAt !== undefined && c.durableAt <= state.point) lowest = n
      if (c.startedAt < state.point) highest = n
    })
    let recovered: Engine
    try {
      recovered = await factory.open(state.fs, { small: true })
    } catch (error) {
      report.failures.push(`${where}: open failed: ${(error as Error).message}`)
      continue
    }
    try {
      const found = fingerprint(readAll(recovered))
      const matches: number[] = []
      for (let n = lowest; n <= highest; n++) if (history[n]?.state === found) matches.push(n)
      if (matches.length === 0) report.failures.push(`${where}: recovered a state that is no commit from ${lowest} to ${highest} (seq ${recovered.seq})`)
      const problems = recovered.check()
      if (problems.length > 0) report.failures.push(`${where}: check: ${problems.join('; ')}`)
      // The recovered database must take new writes.
      await recovered.write([{ type: 'put', key: Buffer.from('after-crash'), value: Buffer.from('ok') }])
      if (recovered.get(Buffer.from('after-crash'))?.toString() !== 'ok') report.failures.push(`${where}: write after recovery lost`)
    } catch (error) {
      report.failures.push(`${where}: ${(error as Error).stack}`)
    } finally {
      await recovered.close()
    }
    report.states[state.mode]++
  }
  return report
}
