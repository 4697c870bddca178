import type { Clones, Engine, Operation, SnapshotEngine } from '@strata/btree'
import { CrashFileSystem, type CrashState } from '@strata/storage'
import { type CrashTally, emptyTally, tallyState } from './crash-tally.js'
import type { EngineFactory } from './engine-factory.js'
import { Model } from './model.js'
import { between, pick, seededRandom } from './random.js'
import { type ExpectedState, expectedStateKey, wholeStateOf } from './whole-state.js'

/** Options of {@link cloneCrashCampaign}. */
export interface CloneCrashCampaignOptions {
  /** Clones made, each of a source of its own, and every crash state of each checked. Default 4. */
  clones?: number
  /** The first clone's seed; each later one adds 1. Default 1. */
  seed?: number
}

/** What a clone crash campaign did and found. */
export interface CloneCrashReport {
  clones: number
  /** How many clones were of a named snapshot, kept the named snapshots, and shared files by link. */
  ofNamed: number
  withSnapshots: number
  linked: number
  /** Crash states of the clones' folders: how many opened as the whole clone, and how many an open refused. */
  targetStates: number
  opened: number
  refused: number
  /** Crash states of the sources while they were cloned, each opened and checked. */
  sourceStates: number
  tally: CrashTally
  failures: string[]
}

type CloningEngine = SnapshotEngine & Clones

/** Writes racing a clone on its source: distinct keys, so any prefix of them is a state. */
const RACING_WRITES = 3

function randomBatch(rand: () => number): Operation[] {
  return Array.from({ length: between(rand, 1, 24) }, () => {
    const key = Buffer.from(`k${String(between(rand, 0, 300)).padStart(4, '0')}`)
    if (rand() < 0.2) return { type: 'del' as const, key }
    // Now and then a value too large for a page.
    const value = Buffer.from(rand().toString(36).repeat(rand() < 0.08 ? 60 : between(rand, 1, 3)))
    return { type: 'put' as const, key, value }
  })
}

function stateOf(head: Model, named: Map<string, Model>, keep: boolean): ExpectedState {
  return { seq: 0, head, named: keep ? named : new Map() }
}

/**
 * The crash campaign over clones (docs/snapshots.md §Clones, docs/durability.md): on a disk as
 * unkind as a real one ({@link CrashFileSystem}, which keeps a hard link's bytes and loses its name
 * until a directory sync), each run fills a source with batches and named snapshots, clones the
 * head or a snapshot (keeping the snapshots or not, linking files or copying them) while writes
 * race the clone on the source, and then checks the disk a crash would leave at every point:
 * - **the clone's folder**, at every write and sync boundary of the clone: an open refuses it with
 *   STRATA_CLONE_INCOMPLETE (or STRATA_DATABASE_NOT_FOUND, before anything reached it), or it
 *   opens as the whole clone, with `check()` empty; at the last point, every crash state opens;
 * - **the source**, at every point from the clone's start: it opens with `check()` empty, its
 *   named snapshots whole, and its head the state the clone began from plus a prefix of the racing
 *   writes at least as long as those acknowledged by then.
 */
export async function cloneCrashCampaign(factory: EngineFactory, options: CloneCrashCampaignOptions = {}): Promise<CloneCrashReport> {
  const report: CloneCrashReport = { clones: 0, ofNamed: 0, withSnapshots: 0, linked: 0, targetStates: 0, opened: 0, refused: 0, sourceStates: 0, tally: emptyTally(), failures: [] }
  const first = options.seed ?? 1
  for (let seed = first; seed < first + (options.clones ?? 4); seed++) await cloneOnce(factory, seed, report)
  return report
}

async function cloneOnce(factory: EngineFactory, seed: number, report: CloneCrashReport): Promise<void> {
  const rand = seededRandom(seed * 7907 + 3)
  const source = new CrashFileSystem({ seed })
  const engine = (await factory.open(source, { small: true })) as Engine as CloningEngine
  if (typeof engine.clone !== 'function') throw new TypeError(`${factory.name} makes no clones`)
  const head = new Model()
  const named = new Map<string, Model>()
  // A source with history: batches, named snapshots taken and deleted between them.
  for (let i = 0; i < 40; i++) {
    const ops = randomBatch(rand)
    await engine.write(ops)
    head.apply(ops)
    if (rand() < 0.1) {
      const name = `s${i}`
      await engine.createSnapshot(name)
      named.set(name, head.clone())
    } else if (rand() < 0.04 && named.size > 1) {
      const name = pick(rand, [...named.keys()])
      await engine.deleteSnapshot(name)
      named.delete(name)
    }
  }
  if (named.size === 0) {
    await engine.createSnapshot('last')
    named.set('last', head.clone())
  }
  const name = rand() < 0.5 ? pick(rand, [...named.keys()]) : undefined
  const snapshots = rand() < 0.5
  const link = rand() < 0.7
  const expectedClone = stateOf((name === undefined ? head : (named.get(name) as Model)).clone(), named, snapshots)
  const before = head.clone()
  const from = source.point
  const target = new CrashFileSystem({ seed })
  // The clone, and writes issued behind it without waiting: they queue after it on the source.
  const cloned = engine.clone(name, target, { snapshots, link })
  const racing: Operation[][] = Array.from({ length: RACING_WRITES }, (_, i) => [{ type: 'put', key: Buffer.from(`race${i}`), value: Buffer.from(`after the clone ${seed}`) }])
  const ackedAt: number[] = []
  const writes = racing.map((ops) => engine.write(ops).then(() => void ackedAt.push(source.point)))
  let made: Awaited<typeof cloned>
  try {
    made = await cloned
    await Promise.all(writes)
  } finally {
    await engine.close()
  }
  report.clones++
  if (name !== undefined) report.ofNamed++
  if (snapshots) report.withSnapshots++
  if (made.linkedFiles > 0) report.linked++
  const what = `${factory.name} seed ${seed}: clone of ${name ?? 'the head'}${snapshots ? ' with snapshots' : ''}${link ? '' : ' by copy'}`

  // The clone's folder at every point.
  const expectedKey = expectedStateKey(expectedClone)
  const seen = new Map<string, TargetOutcome>()
  for (const state of target.crashStates()) {
    report.targetStates++
    tallyState(report.tally, state)
    const failure = await checkTarget(factory, state, target.point, expectedKey, seen, report)
    if (failure) report.failures.push(`${what}, clone folder at point ${state.point} (${state.mode}): ${failure}`)
  }

  // The source at every point from the clone's start.
  const allowed = [before, ...racing.map((_, n) => withRacing(before, racing, n + 1))].map((h) => expectedStateKey(stateOf(h, named, true)))
  const checked = new Map<string, string | undefined>()
  for (const state of source.crashStates(from)) {
    report.sourceStates++
    tallyState(report.tally, state)
    const acked = ackedAt.filter((p) => p <= state.point).length
    let found = checked.get(state.digest)
    if (!checked.has(state.digest)) {
      found = await openState(factory, state)
      checked.set(state.digest, found)
    }
    const at = found === undefined ? -1 : allowed.indexOf(found)
    if (at < acked) {
      const seen = found === undefined ? 'a failed open' : at < 0 ? 'a state that is none of those allowed' : `the state with ${at} racing writes`
      report.failures.push(`${what}, source at point ${state.point} (${state.mode}): ${acked} racing writes acknowledged, found ${seen}`)
    }
  }
}

/** `base` with the first `n` racing writes applied. */
function withRacing(base: Model, racing: Operation[][], n: number): Model {
  const model = base.clone()
  for (const ops of racing.slice(0, n)) model.apply(ops)
  return model
}

/** Opens a crashed disk and returns the whole state it shows, or undefined if the open or `check()` fails. */
async function openState(factory: EngineFactory, state: CrashState): Promise<string | undefined> {
  let engine: Engine | undefined
  try {
    engine = await factory.open(state.fs, { small: true, createIfMissing: false })
    if (engine.check().length > 0) return undefined
    return wholeStateOf(engine)
  } catch {
    return undefined
  } finally {
    await engine?.close().catch(() => undefined)
  }
}

/** What an open of one crash state of a clone's folder found: opened as the clone, refused with a code, or a failure. */
type TargetOutcome = { kind: 'opened' } | { kind: 'refused'; code: string } | { kind: 'wrong'; what: string }

/** Checks one crash state of a clone's folder (each distinct disk opened once); returns what is wrong, or undefined. */
async function checkTarget(factory: EngineFactory, state: CrashState, last: number, expectedKey: string, seen: Map<string, TargetOutcome>, report: CloneCrashReport): Promise<string | undefined> {
  let outcome = seen.get(state.digest)
  if (!outcome) {
    outcome = await openTarget(factory, state, expectedKey)
    seen.set(state.digest, outcome)
    if (outcome.kind === 'opened') report.opened++
    if (outcome.kind === 'refused') report.refused++
  }
  if (outcome.kind === 'wrong') return outcome.what
  if (outcome.kind === 'refused' && state.point === last) return `the clone had resolved, yet an open refused it with ${outcome.code}`
  return undefined
}

async function openTarget(factory: EngineFactory, state: CrashState, expectedKey: string): Promise<TargetOutcome> {
  let engine: Engine
  try {
    engine = await factory.open(state.fs, { small: true, createIfMissing: false })
  } catch (error) {
    const code = String((error as { code?: unknown }).code)
    // Refused as a clone cut short; or, before the marker's own creation was durable, an empty folder.
    if (code === 'STRATA_CLONE_INCOMPLETE' || (code === 'STRATA_DATABASE_NOT_FOUND' && state.fs.list().length === 0)) return { kind: 'refused', code }
    return { kind: 'wrong', what: `the open failed with ${code}: ${(error as Error).message}` }
  }
  try {
    const problems = engine.check()
    if (problems.length > 0) return { kind: 'wrong', what: `it opened, and check() found: ${problems.slice(0, 3).join('; ')}` }
    if (wholeStateOf(engine) !== expectedKey) return { kind: 'wrong', what: 'it opened in a state other than the clone' }
    return { kind: 'opened' }
  } finally {
    await engine.close().catch(() => undefined)
  }
}
