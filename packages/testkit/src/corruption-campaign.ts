import type { Engine, EngineSnapshot } from '@strata/btree'
import { MemoryFileSystem } from '@strata/storage'
import { DeadlineExceeded, withDeadline } from './deadline.js'
import { DAMAGE_KINDS, type DamageKind, damageFile } from './file-damage.js'
import type { EngineFactory } from './engine-factory.js'
import { codeOf, messageChain } from './error-codes.js'
import { Model } from './model.js'
import { type Random, randomFor, seededRandom } from './random.js'
import { workloadBatch, workloadKeys } from './workload.js'

/** What a corruption campaign did and found. */
export interface CorruptionReport {
  /** Damaged databases opened and read, by the kind of damage. */
  damage: Record<DamageKind, number>
  /** Damaged databases, by the kind of file damaged (digits in a name read as N: `seg-N.log`). */
  files: Record<string, number>
  /** What opening and reading each damaged database gave. */
  outcomes: {
    /** Opened at the last commit, and every read agreed with it. */
    intact: number
    /** Opened at an earlier commit (a damaged log tail cut off), and every read agreed with that commit. */
    rolledBack: number
    /** Opened; some reads failed with LEVEL_CORRUPTION naming a file and offset, the others agreed. */
    readErrors: number
    /** The open failed with LEVEL_CORRUPTION naming a file and offset. */
    refused: number
  }
  /** Values and entries read and compared with the model. */
  reads: number
  /** Problems found: uncaught or uncoded errors, wrong data, hangs, corruption errors that name no place. */
  failures: string[]
}

/** Options of {@link corruptionCampaign}. */
export interface CorruptionCampaignOptions {
  /** Damaged databases to check. Default 1200. */
  mutations?: number
  /** Seed of the workloads and of the damage. Default 3. */
  seed?: number
  /** Check only this case (its number from a failure message), to reproduce it. */
  only?: number
}

/** A database image to damage copies of, with the state after every commit it went through. */
interface Image {
  name: string
  fs: MemoryFileSystem
  /** `states[s]` is the state after commit s. */
  states: Model[]
}

/** How long an open, a write or a close of a damaged database may take before it counts as a hang. */
const HANG_MS = 10_000

/**
 * Corrupt files: builds two databases (one closed cleanly, one copied while open, with batches
 * still to replay), then over and over damages one file of a copy (a flipped byte, a zeroed
 * sector or page, a truncation, garbage appended; META and every segment in turn) and opens and
 * reads it. Every case must either open at some commit s and read exactly commit s's values (or
 * fail a read with LEVEL_CORRUPTION naming a file and offset), or refuse to open with
 * LEVEL_CORRUPTION naming a file and offset. When only META is damaged, every commit is still whole
 * in the other files, so s must be the last commit. An uncoded error (TypeError, RangeError, a
 * broken invariant), a value commit s did not hold, an entry missing from a scan, a pin left behind
 * by a failed read, or an open, write or close that does not finish is a failure.
 */
export async function corruptionCampaign(factory: EngineFactory, options: CorruptionCampaignOptions = {}): Promise<CorruptionReport> {
  const mutations = options.mutations ?? 1200
  const seed = options.seed ?? 3
  const images = [await buildImage(factory, 'closed', seed, 160, true), await buildImage(factory, 'open', seed + 1, 140, false)]
  const keys = workloadKeys()
  const report: CorruptionReport = {
    damage: { flip: 0, zero: 0, truncate: 0, append: 0 },
    files: {},
    outcomes: { intact: 0, rolledBack: 0, readErrors: 0, refused: 0 },
    reads: 0,
    failures: [],
  }
  for (let n = 0; n < mutations; n++) {
    if (options.only !== undefined && n !== options.only) continue
    const rand = randomFor(seed, n)
    const image = images[n % images.length] as Image
    const disk = image.fs.clone()
    const names = disk.list()
    // META, where the engine keeps one, gets a quarter of the cases; the other files share the rest.
    const others = names.filter((name) => name !== 'META')
    const target = ((names.includes('META') && rand() < 0.25) || others.length === 0 ? 'META' : others[Math.floor(rand() * others.length)]) as string
    const kind = DAMAGE_KINDS[Math.floor(n / images.length) % DAMAGE_KINDS.length] as DamageKind
    const data = disk.files.get(target)
    if (!data) throw new Error(`strata: invariant broken: image ${image.name} has no file ${target}`)
    const what = damageFile(data, target, kind, rand)
    report.damage[kind]++
    const fileKind = target.replace(/\d+/g, 'N')
    report.files[fileKind] = (report.files[fileKind] ?? 0) + 1
    const problem = await judge(factory, disk, image, target, keys, report, rand)
    if (problem) report.failures.push(`case ${n} (seed ${seed}), image ${image.name}, ${target} ${what}: ${problem}`)
  }
  return report
}

/** Runs a workload on a fresh database and keeps its files: closed, or copied while still open. */
async function buildImage(factory: EngineFactory, name: string, seed: number, commits: number, close: boolean): Promise<Image> {
  const fs = new MemoryFileSystem()
  const engine = await factory.open(fs, { small: true })
  const model = new Model()
  const states = [model.clone()]
  const rand = seededRandom(seed)
  const snapshots: EngineSnapshot[] = []
  for (let n = 1; n <= commits; n++) {
    const ops = workloadBatch(seed, n)
    await engine.write(ops)
    model.apply(ops)
    states.push(model.clone())
    // Snapshots held across writes keep old pages in old segments, for the damage to reach.
    if (rand() < 0.06) snapshots.push(engine.snapshot())
    if (snapshots.length > 3) snapshots.shift()?.release()
    if (rand() < 0.02) await engine.compact()
  }
  const copy = close ? undefined : fs.clone()
  for (const s of snapshots) s.release()
  await engine.close()
  return { name, fs: copy ?? fs, states }
}

/** Whether an error is LEVEL_CORRUPTION whose message names a file of the folder and an offset. */
function isPlacedCorruption(error: unknown, names: readonly string[]): boolean {
  if (codeOf(error) !== 'LEVEL_CORRUPTION') return false
  const message = (error as Error).message
  return /\boffsets? \d+/.test(message) && names.some((name) => message.includes(name))
}

/** Opens and reads a damaged copy; counts its outcome and returns what is wrong, if anything. */
async function judge(factory: EngineFactory, disk: MemoryFileSystem, image: Image, target: string, keys: Buffer[], report: CorruptionReport, rand: Random): Promise<string | undefined> {
  const names = disk.list()
  const final = image.states.length - 1
  let engine: Engine
  try {
    engine = await withDeadline(factory.open(disk, { small: true }), HANG_MS, 'open')
  } catch (error) {
    if (isPlacedCorruption(error, names)) {
      report.outcomes.refused++
      return undefined
    }
    return `open failed with ${messageChain(error)}${error instanceof DeadlineExceeded ? '' : `\n${(error as Error).stack}`}`
  }
  try {
    const seq = engine.seq
    const state = image.states[seq]
    if (!state) return `opened at seq ${seq}, a commit the database never made (it made ${final})`
    // With only META damaged every commit is still whole in the other files: recovery may refuse,
    // but it must not settle for an older commit (and so drop acknowledged ones) without a word.
    if (target === 'META' && seq < final) {
      const removed = names.filter((name) => !disk.exists(name))
      return `META damage made the open settle for commit ${seq} of ${final} without an error${removed.length > 0 ? `, and the open removed ${removed.join(', ')}` : ''}`
    }
    let readErrors = 0
    const readFailed = (error: unknown, what: string): string | undefined => {
      if (isPlacedCorruption(error, names)) {
        readErrors++
        return undefined
      }
      return `${what} failed with ${messageChain(error)}\n${(error as Error).stack}`
    }
    // Every key, by get: the value commit `seq` holds, or LEVEL_CORRUPTION.
    for (const key of keys) {
      try {
        const value = engine.get(key)
        report.reads++
        const expected = state.get(key)
        if (expected === undefined ? value !== undefined : value === undefined || !value.equals(expected)) {
          return `at seq ${seq}, get(${key}) gave ${describe(value)} where the commit holds ${describe(expected)}`
        }
      } catch (error) {
        const problem = readFailed(error, `get(${key})`)
        if (problem) return problem
      }
    }
    // A scan, one way or the other: each entry the next the commit holds, none skipped.
    const reverse = rand() < 0.5
    const expected = state.range({ reverse })
    let cursor: ReturnType<Engine['iterate']> | undefined
    try {
      cursor = engine.iterate({ reverse })
      for (let i = 0; ; i++) {
        const entry = cursor.next()
        if (entry === undefined) {
          if (i !== expected.length) return `at seq ${seq}, a ${reverse ? 'reverse ' : ''}scan ended after ${i} of ${expected.length} entries`
          break
        }
        report.reads++
        const want = expected[i]
        if (!want || !entry[0].equals(want[0]) || !entry[1].equals(want[1])) {
          return `at seq ${seq}, entry ${i} of a ${reverse ? 'reverse ' : ''}scan is ${describe(entry[0])} = ${describe(entry[1])} where the commit holds ${want ? `${describe(want[0])} = ${describe(want[1])}` : 'nothing'}`
        }
      }
    } catch (error) {
      const problem = readFailed(error, 'a scan')
      if (problem) return problem
    } finally {
      cursor?.close()
    }
    // Reads that failed must not leave anything pinned: no snapshot or cursor is open now.
    const pinned = engine.stats().pinnedSnapshots
    if (pinned !== 0) return `${pinned} snapshots stay pinned after every cursor was closed (${readErrors} reads had failed)`
    // check() reports damage as a list; it must not throw.
    try {
      engine.check()
    } catch (error) {
      return `check() threw ${messageChain(error)}`
    }
    // A write either lands or fails with a code.
    try {
      await withDeadline(engine.write([{ type: 'put', key: Buffer.from('after-damage'), value: Buffer.from('x') }]), HANG_MS, 'a write')
    } catch (error) {
      if (error instanceof DeadlineExceeded || codeOf(error) === undefined) return `a write failed with ${messageChain(error)}`
    }
    if (readErrors > 0) report.outcomes.readErrors++
    else if (seq === final) report.outcomes.intact++
    else report.outcomes.rolledBack++
    return undefined
  } finally {
    try {
      await withDeadline(engine.close(), HANG_MS, 'close')
    } catch (error) {
      if (error instanceof DeadlineExceeded || codeOf(error) === undefined) report.failures.push(`close of a damaged database failed with ${messageChain(error)}`)
    }
  }
}

/** A short printable form of a key or value. */
function describe(bytes: Buffer | undefined): string {
  if (bytes === undefined) return 'nothing'
  const text = bytes.subarray(0, 24).toString('latin1').replace(/[^\x20-\x7e]/g, '.')
  return `${bytes.length} bytes "${text}${bytes.length > 24 ? '…' : ''}"`
}
