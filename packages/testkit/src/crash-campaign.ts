import type { Engine, EngineCursor, EngineSnapshot } from '@strata/btree'
import { CrashFileSystem, type FileSystem } from '@strata/storage'
import { type CrashTally, emptyTally, tallyState } from './crash-tally.js'
import { type EngineFactory, readAll } from './engine-factory.js'
import { fingerprint, Model } from './model.js'
import { seededRandom } from './random.js'
import { workloadBatch } from './workload.js'

/** What a crash campaign did and found. */
export interface CrashReport {
  commits: number
  /** Crash states recovered and checked, by mode and by what made them unkind. */
  tally: CrashTally
  /** Write, sync, truncate, create and remove events the workload made: the crash points. */
  points: number
  /** Distinct disks opened and checked: a state equal to one checked before, with the same commits to expect, is not opened again. */
  recoveries: number
  /** What the workload did, so a report shows which mechanisms a crash could interrupt. */
  workload: {
    unsyncedCommits: number
    /** Commits issued while an earlier one was still in flight (not awaited). */
    concurrentCommits: number
    /** The most commits issued at once in one run. */
    largestRun: number
    largeValues: number
    snapshots: number
    cursors: number
    compactions: number
    reopens: number
    checkpoints: number
  }
  /** Problems found (empty when every state recovered correctly), each naming its seed, point and mode. */
  failures: string[]
}

/** Options of {@link crashCampaign}. */
export interface CrashCampaignOptions {
  /** Batches the workload commits. Default 200. */
  commits?: number
  /** Seed of the workload. Default 42. */
  seed?: number
  /**
   * The most commits issued at once, each before the one before resolves, so that they join one
   * group (one append, at most one sync). Runs are of 1 to this many. Default 4.
   */
  writers?: number
}

interface Commit {
  /** Crash point before the write began: a crash before it cannot show the commit. */
  startedAt: number
  /** Crash point from which the commit is durable (its synced write resolved, or a close); undefined while it is not. */
  durableAt: number | undefined
  /** The whole state after this commit. */
  state: string
}

/** Closing makes every commit so far durable. */
function markDurable(history: Commit[], point: number): void {
  for (const commit of history) commit.durableAt ??= point
}

/**
 * Runs a workload of `commits` batches on a crash-simulating file system as unkind as a real disk
 * (syncs that complete later than they start, unsynced writes lost, torn or reordered, creations
 * and removals lost without a directory sync), then rebuilds the disk as a power loss would leave
 * it at every event boundary, from before the database was created to after it was closed. Each
 * state must recover to exactly the state after some commit (at least the last durable one, at
 * most the last one begun) with that commit's sequence number; `check()` must be empty, and the
 * recovered database must take a new write that survives a reopen.
 *
 * Commits are issued in runs of one to four (`writers`) without awaiting the one before, so background
 * checkpoints and cleaning race foreground commits and their syncs. Between runs (mixed sizes,
 * out-of-line and larger-than-a-segment values, 15 % with sync: false) the workload takes and
 * releases snapshots, leaves cursors open across writes, compacts, and closes and reopens the
 * database, so crashes land in commits, policy checkpoints, segment cleaning, compaction, closing
 * checkpoints and recovery itself.
 */
export async function crashCampaign(factory: EngineFactory, options: CrashCampaignOptions = {}): Promise<CrashReport> {
  const commits = options.commits ?? 200
  const seed = options.seed ?? 42
  const writers = options.writers ?? 4
  if (!Number.isInteger(writers) || writers < 1) throw new RangeError('writers must be a positive integer')
  const rand = seededRandom(seed)
  const fs = new CrashFileSystem({ seed })
  const workload: CrashReport['workload'] = { largestRun: 0, unsyncedCommits: 0, concurrentCommits: 0, largeValues: 0, snapshots: 0, cursors: 0, compactions: 0, reopens: 0, checkpoints: 0 }
  let engine = await factory.open(fs, { small: true })
  const model = new Model()
  const history: Commit[] = [{ startedAt: 0, durableAt: 0, state: model.fingerprint() }]
  const snapshots: EngineSnapshot[] = []
  const cursors: EngineCursor[] = []
  const releaseAll = () => {
    for (const s of snapshots.splice(0)) s.release()
    for (const c of cursors.splice(0)) c.close()
  }
  for (let n = 1; n <= commits; ) {
    // A run of commits issued at once: each is in the engine's hands before the one before it resolves.
    const run = rand() < 0.4 && writers > 1 ? 2 + Math.floor(rand() * (writers - 1)) : 1
    workload.largestRun = Math.max(workload.largestRun, run)
    const writes: Promise<void>[] = []
    for (let k = 0; k < run && n <= commits; k++, n++) {
      const ops = workloadBatch(seed, n)
      model.apply(ops)
      const sync = rand() < 0.85
      if (!sync) workload.unsyncedCommits++
      if (k > 0) workload.concurrentCommits++
      for (const op of ops) if (op.type === 'put' && op.value.length >= 1000) workload.largeValues++
      const commit: Commit = { startedAt: fs.point, durableAt: undefined, state: model.fingerprint() }
      history.push(commit)
      writes.push(
        engine.write(ops, { sync }).then(() => {
          if (sync) commit.durableAt = fs.point
        }),
      )
    }
    await Promise.all(writes)
    const step = rand()
    if (step < 0.08 && snapshots.length < 6) {
      snapshots.push(engine.snapshot())
      workload.snapshots++
    } else if (step < 0.14 && snapshots.length > 0) {
      snapshots.splice(Math.floor(rand() * snapshots.length), 1)[0]?.release()
    } else if (step < 0.17 && cursors.length < 3) {
      // A cursor left open across later writes pins what it reads, like a snapshot.
      const cursor = engine.iterate({ reverse: rand() < 0.5 })
      for (let i = 0; i < 5; i++) cursor.next()
      cursors.push(cursor)
      workload.cursors++
    } else if (step < 0.2 && cursors.length > 0) {
      cursors.shift()?.close()
    } else if (step < 0.22) {
      await engine.compact()
      workload.compactions++
    } else if (step < 0.24) {
      releaseAll()
      workload.checkpoints += engine.stats().checkpoints
      await engine.close()
      markDurable(history, fs.point)
      engine = await factory.open(fs, { small: true })
      workload.reopens++
    }
  }
  releaseAll()
  workload.checkpoints += engine.stats().checkpoints
  await engine.close()
  markDurable(history, fs.point)

  const report: CrashReport = { commits, tally: emptyTally(), points: fs.point, recoveries: 0, workload, failures: [] }
  const checked = new Set<string>()
  for (const state of fs.crashStates()) {
    const where = `seed ${seed}, crash at point ${state.point} (${state.mode})`
    // The newest commit that was durable before the crash, and the newest that had begun.
    let lowest = 0
    let highest = 0
    history.forEach((c, n) => {
      if (c.durableAt !== undefined && c.durableAt <= state.point) lowest = n
      if (c.startedAt < state.point) highest = n
    })
    tallyState(report.tally, state)
    const key = `${state.digest}@${lowest}-${highest}`
    if (checked.has(key)) continue
    checked.add(key)
    const problem = await checkRecovery(factory, state.fs, history, lowest, highest, report.recoveries++ % 16 === 0)
    if (problem) report.failures.push(`${where}: ${problem}`)
  }
  return report
}

/** Opens a crashed disk and returns what is wrong with what it recovered, or undefined. */
async function checkRecovery(factory: EngineFactory, disk: FileSystem, history: Commit[], lowest: number, highest: number, reopen: boolean): Promise<string | undefined> {
  let recovered: Engine
  try {
    recovered = await factory.open(disk, { small: true })
  } catch (error) {
    return `open failed: ${(error as Error).stack}`
  }
  try {
    const found = fingerprint(readAll(recovered))
    const matches: number[] = []
    for (let n = lowest; n <= highest; n++) if (history[n]?.state === found) matches.push(n)
    if (matches.length === 0) return `recovered a state that is no commit from ${lowest} to ${highest} (seq ${recovered.seq})`
    if (!matches.includes(recovered.seq)) return `recovered the state of commit ${matches.join(' or ')} but reports seq ${recovered.seq}`
    const problems = recovered.check()
    if (problems.length > 0) return `check: ${problems.join('; ')}`
    // The recovered database must take new writes, and keep them.
    await recovered.write([{ type: 'put', key: Buffer.from('after-crash'), value: Buffer.from('ok') }])
    if (recovered.get(Buffer.from('after-crash'))?.toString() !== 'ok') return 'write after recovery lost'
    if (reopen) {
      await recovered.close()
      recovered = await factory.open(disk, { small: true })
      if (recovered.get(Buffer.from('after-crash'))?.toString() !== 'ok') return 'write after recovery lost by a reopen'
      const again = recovered.check()
      if (again.length > 0) return `check after reopen: ${again.join('; ')}`
    }
    return undefined
  } catch (error) {
    return (error as Error).stack
  } finally {
    await recovered.close()
  }
}
