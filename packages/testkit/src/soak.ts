import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { Engine, EngineSnapshot } from '@strata/btree'
import { crc32, type FileSystem } from '@strata/storage'
import { codeOf, messageChain } from './error-codes.js'
import { between, type Random, seededRandom } from './random.js'
import { hasNamedSnapshots } from './whole-state.js'
import { workloadKey, workloadValue } from './workload.js'

/** One measurement taken during a soak. */
export interface SoakSample {
  /** Seconds since the soak began. */
  seconds: number
  /** Resident set size of the process, in bytes. */
  rss: number
  /** V8 heap in use, in bytes. */
  heapUsed: number
  /** Bytes of every file in the database folder, as the file system reports them. */
  fileBytes: number
  /** The engine's sequence number: batches committed so far. */
  seq: number
}

/** Whether a figure kept within its bound: the largest sample of the run's last third against that of its middle third. */
export interface SoakGrowth {
  middleMax: number
  lastMax: number
  /** lastMax ÷ middleMax − 1: how much the figure still grew after the warm-up. */
  growth: number
  /** The largest growth allowed. */
  allowed: number
  bounded: boolean
}

/** What a soak did and measured. */
export interface SoakReport {
  /** How long it wrote, in seconds (past `seconds` when the warm-up ran long). */
  seconds: number
  batches: number
  /** Key and value bytes written. */
  userBytes: number
  /** Snapshots taken (in-process and named), each kept for a while among the live ones. */
  snapshots: { inProcess: number; named: number }
  /** Reports run over live snapshots, and the entries they read. */
  reports: number
  reportEntries: number
  compactions: number
  checkpoints: number
  /** Seconds into the run at which every snapshot taken at the start had been replaced: from then on the live snapshots span their full window. */
  steadyAt: number | undefined
  samples: SoakSample[]
  /** Bytes of the database's files after every batch, as [seconds, bytes]: dense enough to catch each peak between two checkpoints, which the memory samples, taken less often, can miss. */
  fileTrace: [number, number][]
  rss: SoakGrowth
  fileBytes: SoakGrowth
  /** Problems: wrong reads, errors, unbounded growth, a failed check() after the final reopen. */
  failures: string[]
}

/** Options of {@link soak}. */
export interface SoakOptions {
  /** The folder the database lives in (a real one: file sizes are measured there). */
  folder: string
  /** Opens the engine under test in `fs`. */
  open: (fs: FileSystem) => Promise<Engine>
  /** Makes the file system for `folder`. */
  fileSystem: (folder: string) => FileSystem
  /** How long to write, in seconds: longer while the warm-up lasts past a third of it (up to four times as long). */
  seconds: number
  seed?: number
  /** Distinct keys the writes go to: the working set. Default 20,000. */
  keys?: number
  /** Snapshots live at any moment, once the first are taken; named ones where the engine has them, for half. Default 16. */
  liveSnapshots?: number
  /** Batches between one snapshot and the next (the oldest goes as each new one comes): a snapshot lives this × `liveSnapshots` batches. Default 40. */
  snapshotEvery?: number
  /** How often to sample memory and files, in milliseconds. Default 250. */
  sampleMs?: number
  /** Growth allowed from the middle third's largest RSS to the last third's. Default 0.25. */
  rssGrowth?: number
  /** Growth allowed from the middle third's largest file bytes to the last third's. Default 0.25. */
  fileGrowth?: number
  /** Called with each sample as it is taken. */
  onSample?: (sample: SoakSample) => void
}

/** A live snapshot and the digest of the report range it must keep giving. */
interface LiveSnapshot {
  name: string | undefined
  snapshot: EngineSnapshot
  digest: number
}

/** Keys whose entries a snapshot's digest covers: the first of the working set. */
const DIGEST_KEYS = 300

/**
 * A full garbage collection: `gc` when node runs with --expose-gc, else one obtained by turning
 * the flag on now (a fresh context sees it), so that samples measure what is kept, not what
 * awaits collection.
 */
function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (exposed) return exposed
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/** Bytes of every file in a folder. */
function folderBytes(folder: string): number {
  let total = 0
  for (const name of readdirSync(folder)) total += statSync(join(folder, name)).size
  return total
}

/** The growth of a figure from the middle third of a run to its last third (the first third is warm-up). */
function growthOf<T>(samples: readonly T[], seconds: number, at: (s: T) => number, pick: (s: T) => number, allowed: number): SoakGrowth {
  const maxOf = (from: number, to: number) => samples.reduce((max, s) => (at(s) >= from && at(s) < to ? Math.max(max, pick(s)) : max), 0)
  const middleMax = maxOf(seconds / 3, (2 * seconds) / 3)
  const lastMax = maxOf((2 * seconds) / 3, Number.POSITIVE_INFINITY)
  const growth = middleMax === 0 ? 0 : lastMax / middleMax - 1
  return { middleMax, lastMax, growth, allowed, bounded: middleMax > 0 && growth <= allowed }
}

/**
 * A soak: for `seconds`, mixed batches (puts of small and large values, deletes, some synced)
 * over a fixed working set, with `liveSnapshots` snapshots alive at every moment (the oldest
 * released and a new one taken in turn; half of them named and durable where the engine keeps
 * named snapshots), reports reading ranges of live snapshots and checking each snapshot still
 * gives what it gave when taken, and compactions now and then on top of the engine's own
 * checkpoints and reclamation. RSS and the folder's bytes are sampled all along; after a
 * warm-up (the first third, which must last until every snapshot taken at the start has been
 * replaced, else the run is too short to judge), the largest sample of the last third must not exceed the largest of the
 * middle third by more than the growth allowed. At the end every key must read what was
 * last written to it, and after a reopen `check()` must be empty.
 */
export async function soak(options: SoakOptions): Promise<SoakReport> {
  const seed = options.seed ?? 9
  const keys = options.keys ?? 20_000
  const liveTarget = options.liveSnapshots ?? 16
  const snapshotEvery = options.snapshotEvery ?? 40
  const sampleMs = options.sampleMs ?? 250
  const rand = seededRandom(seed)
  const report: SoakReport = {
    seconds: options.seconds,
    batches: 0,
    userBytes: 0,
    snapshots: { inProcess: 0, named: 0 },
    reports: 0,
    reportEntries: 0,
    compactions: 0,
    checkpoints: 0,
    steadyAt: undefined,
    samples: [],
    fileTrace: [],
    rss: growthOf([], 0, () => 0, () => 0, 0),
    fileBytes: growthOf([], 0, () => 0, () => 0, 0),
    failures: [],
  }
  /** What each key holds now: the batch and size of its value, or undefined once deleted. */
  const latest: ({ batch: number; size: number } | undefined)[] = new Array(keys).fill(undefined)
  const live: LiveSnapshot[] = []
  let engine = await options.open(options.fileSystem(options.folder))
  const started = performance.now()
  const elapsed = () => (performance.now() - started) / 1000
  let nextSample = 0
  let nextCompaction = options.seconds / 6
  let named = 0
  let replaced = 0
  const collectGarbage = collector()
  const sample = () => {
    collectGarbage()
    const memory = process.memoryUsage()
    const s: SoakSample = { seconds: elapsed(), rss: memory.rss, heapUsed: memory.heapUsed, fileBytes: folderBytes(options.folder), seq: engine.seq }
    report.samples.push(s)
    options.onSample?.(s)
  }
  /** The digest of the report range as the model has it now. */
  const expectedDigest = () => {
    let digest = 0
    for (let i = 0; i < DIGEST_KEYS && i < keys; i++) {
      const v = latest[i]
      if (v) digest = crc32(Buffer.concat([Buffer.from([digest & 0xff, (digest >>> 8) & 0xff, (digest >>> 16) & 0xff, digest >>> 24]), workloadValue(i, v.batch, v.size)]))
    }
    return digest
  }
  const digestOf = (snapshot: EngineSnapshot) => {
    let digest = 0
    const cursor = engine.iterate({ lt: workloadKey(DIGEST_KEYS) }, snapshot)
    try {
      for (let e = cursor.next(); e; e = cursor.next()) digest = crc32(Buffer.concat([Buffer.from([digest & 0xff, (digest >>> 8) & 0xff, (digest >>> 16) & 0xff, digest >>> 24]), e[1]]))
    } finally {
      cursor.close()
    }
    return digest
  }
  try {
    // On a busy machine the warm-up can outlast a third of `seconds`: the run then stretches to
    // three times the warm-up (up to four times `seconds`), so its thirds still mean what they say.
    let duration = options.seconds
    const longest = options.seconds * 4
    while ((elapsed() < duration || (report.steadyAt === undefined && elapsed() < longest)) && report.failures.length === 0) {
      if (elapsed() >= nextSample) {
        sample()
        nextSample += sampleMs / 1000
      }
      await writeBatch(engine, rand, keys, ++report.batches, latest)
      report.fileTrace.push([elapsed(), folderBytes(options.folder)])
      // Snapshots: one every 10 batches (or `snapshotEvery`, if fewer) until `liveTarget` are live, then the oldest replaced every `snapshotEvery`.
      if (report.batches % (live.length < liveTarget ? Math.min(10, snapshotEvery) : snapshotEvery) === 0) {
        if (live.length >= liveTarget) {
          await releaseSnapshot(engine, live.shift() as LiveSnapshot)
          if (++replaced === liveTarget) {
            report.steadyAt = elapsed()
            duration = Math.min(longest, Math.max(options.seconds, 3 * report.steadyAt))
          }
        }
        const useName = hasNamedSnapshots(engine) && live.filter((s) => s.name !== undefined).length < liveTarget / 2
        const name = useName ? `soak-${++named}` : undefined
        const snapshot = name !== undefined && hasNamedSnapshots(engine) ? (await engine.createSnapshot(name), engine.openSnapshot(name)) : engine.snapshot()
        if (name === undefined) report.snapshots.inProcess++
        else report.snapshots.named++
        const digest = digestOf(snapshot)
        if (digest !== expectedDigest()) report.failures.push(`a snapshot taken at seq ${snapshot.seq} does not read what was written`)
        live.push({ name, snapshot, digest })
      }
      // Reports: a range read over a live snapshot, every value checked against its key.
      if (report.batches % 25 === 0 && live.length > 0) {
        const target = live[between(rand, 0, live.length - 1)] as LiveSnapshot
        const problem = runReport(engine, target, rand, keys, report)
        if (problem) report.failures.push(problem)
        if (digestOf(target.snapshot) !== target.digest) report.failures.push(`a snapshot at seq ${target.snapshot.seq} no longer reads what it read when taken`)
      }
      if (elapsed() >= nextCompaction) {
        await engine.compact()
        report.compactions++
        nextCompaction += options.seconds / 6
      }
    }
    sample()
    report.seconds = Math.round(elapsed() * 10) / 10
    report.userBytes = engine.stats().io.userBytes
    report.checkpoints = engine.stats().checkpoints
    for (const s of live.splice(0)) await releaseSnapshot(engine, s)
    // Every key reads what was last written to it, before and after a reopen.
    checkHead(engine, latest, report, 'at the end')
    await engine.close()
    engine = await options.open(options.fileSystem(options.folder))
    checkHead(engine, latest, report, 'after a reopen')
    const problems = engine.check()
    if (problems.length > 0) report.failures.push(`check() after the soak: ${problems.slice(0, 5).join('; ')}`)
  } catch (error) {
    report.failures.push(`the soak stopped on ${codeOf(error) ?? 'an error'}: ${messageChain(error)}\n${(error as Error).stack}`)
  } finally {
    for (const s of live) s.snapshot.release()
    await engine.close().catch(() => undefined)
  }
  const ran = report.seconds
  report.rss = growthOf(report.samples, ran, (s) => s.seconds, (s) => s.rss, options.rssGrowth ?? 0.25)
  report.fileBytes = growthOf(report.fileTrace, ran, ([seconds]) => seconds, ([, bytes]) => bytes, options.fileGrowth ?? 0.25)
  // Growth means something only once the warm-up third covers the snapshots' first full window.
  if (report.steadyAt === undefined || report.steadyAt > ran / 3) {
    const when = report.steadyAt === undefined ? 'never' : `at ${report.steadyAt.toFixed(1)} s`
    report.failures.push(`the run was too short to judge growth: the first ${liveTarget} snapshots were all replaced ${when}, after the warm-up third (${(ran / 3).toFixed(1)} s); run it longer`)
    return report
  }
  if (!report.rss.bounded) report.failures.push(`RSS grew ${(report.rss.growth * 100).toFixed(0)} % after the warm-up (allowed ${(report.rss.allowed * 100).toFixed(0)} %)`)
  if (!report.fileBytes.bounded) report.failures.push(`the files grew ${(report.fileBytes.growth * 100).toFixed(0)} % after the warm-up (allowed ${(report.fileBytes.allowed * 100).toFixed(0)} %)`)
  return report
}

/** One mixed batch: 1 to 40 operations, mostly small puts, some large values and deletes; one in eight synced. */
async function writeBatch(engine: Engine, rand: Random, keys: number, batch: number, latest: ({ batch: number; size: number } | undefined)[]): Promise<void> {
  const ops: Parameters<Engine['write']>[0] = []
  const count = between(rand, 1, 40)
  for (let i = 0; i < count; i++) {
    const index = between(rand, 0, keys - 1)
    if (rand() < 0.1) {
      ops.push({ type: 'del', key: workloadKey(index) })
      latest[index] = undefined
    } else {
      const size = rand() < 0.02 ? between(rand, 2000, 6000) : between(rand, 20, 400)
      ops.push({ type: 'put', key: workloadKey(index), value: workloadValue(index, batch, size) })
      latest[index] = { batch, size }
    }
  }
  await engine.write(ops, { sync: batch % 8 === 0 })
}

/** Releases a live snapshot, deleting it if it is named. */
async function releaseSnapshot(engine: Engine, live: LiveSnapshot): Promise<void> {
  live.snapshot.release()
  if (live.name !== undefined && hasNamedSnapshots(engine)) await engine.deleteSnapshot(live.name)
}

/** Reads a range of a live snapshot: every value must be one written to its key. */
function runReport(engine: Engine, live: LiveSnapshot, rand: Random, keys: number, report: SoakReport): string | undefined {
  const from = between(rand, 0, keys - 1)
  const cursor = engine.iterate({ gte: workloadKey(from), limit: 1000, reverse: rand() < 0.3 }, live.snapshot)
  try {
    for (let e = cursor.next(); e; e = cursor.next()) {
      report.reportEntries++
      const index = Number(e[0].toString('latin1').slice(4))
      if (!e[1].toString('latin1', 0, 16).startsWith(`k${index}@`)) return `a report over the snapshot at seq ${live.snapshot.seq} read a value of another key under ${e[0].toString('latin1')}`
    }
  } finally {
    cursor.close()
  }
  report.reports++
  return undefined
}

/** Every key must read what was last written to it. */
function checkHead(engine: Engine, latest: readonly ({ batch: number; size: number } | undefined)[], report: SoakReport, when: string): void {
  let wrong = 0
  latest.forEach((v, index) => {
    const found = engine.get(workloadKey(index))
    const expected = v ? workloadValue(index, v.batch, v.size) : undefined
    if (expected === undefined ? found !== undefined : found === undefined || !found.equals(expected)) wrong++
  })
  if (wrong > 0) report.failures.push(`${when}, ${wrong} keys do not read what was last written to them`)
}
