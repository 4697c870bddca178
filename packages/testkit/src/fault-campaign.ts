import type { Engine, EngineCursor, EngineSnapshot } from '@strata/btree'
import { CrashFileSystem, type Fault, type FaultableFileSystem, type FaultOperation, MemoryFileSystem } from '@strata/storage'
import { DeadlineExceeded, withDeadline } from './deadline.js'
import { type EngineFactory, readAll } from './engine-factory.js'
import { codeOf, messageChain } from './error-codes.js'
import { fingerprint, Model } from './model.js'
import { pick, type Random, seededRandom } from './random.js'
import { type ExpectedState, expectedStateKey, hasNamedSnapshots, wholeStateOf } from './whole-state.js'
import { workloadBatch } from './workload.js'

/** What a fault campaign did and found. */
export interface FaultReport {
  /** Writes, syncs and truncations the workload makes when nothing fails: the points a fault can hit. */
  operations: number
  /** Workload runs, each with its own fault plan. */
  cases: number
  /** Faults injected, by operation and by errno code; `shortWrites` of the writes landed part of their bytes first. */
  injected: Record<FaultOperation, number> & { ENOSPC: number; EIO: number; shortWrites: number }
  /** Engine calls acknowledged (resolved) in all cases. */
  acknowledged: number
  /** Engine calls that rejected with STRATA_IO_ERROR: the failing ones, and those refused after them until a reopen. */
  rejected: number
  /** Reads checked against the acknowledged state after a rejection (whole scans of the head and of live snapshots and cursors). */
  readChecks: number
  /** Opens that failed with STRATA_IO_ERROR while faults were on (and were tried again). */
  failedOpens: number
  /** Closes that rejected with STRATA_IO_ERROR (their final checkpoint failed). */
  failedCloses: number
  /** Reopens after which a call that had rejected turned out to have taken effect (its sync failed after its write landed). */
  inDoubtKept: number
  /** With `crash`: the disks recovered as a power loss at the end of a case left them (unsynced writes dropped, or the last one torn). */
  crashStates: number
  /** Problems found: lost or invented data, uncoded or unclear errors, hangs, a failed check(). Empty when sound. */
  failures: string[]
}

/** The report in one line, for a test's log. */
export function describeFaultReport(report: FaultReport): string {
  const i = report.injected
  return `${report.cases} cases over ${report.operations} operations; ${i.write + i.sync + i.truncate} faults injected (${i.write} writes, ${i.sync} syncs, ${i.truncate} truncations; ${i.ENOSPC} ENOSPC, ${i.EIO} EIO; ${i.shortWrites} short writes); ${report.acknowledged} calls acknowledged, ${report.rejected} rejected with STRATA_IO_ERROR, ${report.readChecks} read checks after a rejection, ${report.failedOpens} opens and ${report.failedCloses} closes failed under faults, ${report.inDoubtKept} rejected calls found whole after a reopen${report.crashStates > 0 ? `, ${report.crashStates} disks recovered after the power loss` : ''}; ${report.failures.length} failures`
}

/** Options of {@link faultCampaign}. */
export interface FaultCampaignOptions {
  /** Steps of the workload: batches, snapshots, cursors, compactions, named snapshots, a reopen. Default 60. */
  steps?: number
  /** Seed of the workload. Default 5. */
  seed?: number
  /** Cases to run, their fault points spread evenly over the workload's operations. Default 300. */
  cases?: number
  /** A fresh, empty folder for one case. Default: a new MemoryFileSystem (a CrashFileSystem with `crash`). */
  disk?: () => FaultableFileSystem
  /**
   * End each case with a power loss instead of a close: the disk as it would be found right after
   * the last step, with its unsynced writes dropped, and again with the last one torn. Each must
   * recover a state from the last durable one to the last acknowledged one. Needs a CrashFileSystem.
   */
  crash?: boolean
  /** Run only this case (its number from a failure message), to reproduce it. */
  only?: number
}

/** How one case fails the disk. */
interface FaultPlan {
  /** The operation (counting writes, syncs and truncations from 1) at which the trouble starts. */
  point: number
  /**
   * `once`: that operation fails, and nothing else. `stuck`: the first write from there on fails
   * part-written with EIO, and so does the next truncation (the cut that would undo it). `full`:
   * from there on, `writes` writes fail with ENOSPC, then room returns.
   */
  mode: 'once' | 'stuck' | 'full'
  /** For `once`, the errno code a write fails with (a sync or truncation fails with EIO). */
  code: 'EIO' | 'ENOSPC'
  /** For `full`, how many writes fail before room returns. */
  writes: number
}

/** How long one engine call may take before it counts as a hang. */
const HANG_MS = 10_000
/** Opens tried before a case gives up reopening under faults. */
const OPEN_ATTEMPTS = 12

/**
 * Full disks and I/O errors: runs one workload (batches, in-process snapshots and cursors held
 * across writes, compactions and policy checkpoints, named snapshots where the engine has them,
 * a close and reopen) over and over, each time failing the disk at another point of it. A case
 * fails one write, sync or truncation (EIO, or ENOSPC with a short write); or a write and the
 * truncation that would undo it; or fills the disk for a few writes (ENOSPC) and then frees it.
 * Every failing call must reject with
 * STRATA_IO_ERROR naming the errno code; right after, the head, every live snapshot and every
 * open cursor must read exactly the acknowledged state; a close must finish (rejecting at most
 * with STRATA_IO_ERROR) and release the folder; and an open with faults off must find every
 * acknowledged call and nothing else (a call that rejected may be found whole, if its write landed
 * and only its sync failed), with `check()` empty and a new write kept. With `crash`, each case
 * ends in a power loss instead of a close (see {@link FaultCampaignOptions.crash}).
 */
export async function faultCampaign(factory: EngineFactory, options: FaultCampaignOptions = {}): Promise<FaultReport> {
  const steps = options.steps ?? 60
  const seed = options.seed ?? 5
  const disk = options.disk ?? (() => (options.crash ? new CrashFileSystem() : new MemoryFileSystem()))
  const report: FaultReport = {
    operations: 0,
    cases: 0,
    injected: { write: 0, sync: 0, truncate: 0, ENOSPC: 0, EIO: 0, shortWrites: 0 },
    acknowledged: 0,
    rejected: 0,
    readChecks: 0,
    failedOpens: 0,
    failedCloses: 0,
    inDoubtKept: 0,
    crashStates: 0,
    failures: [],
  }
  // A run without faults counts the operations a fault can hit (and must itself pass).
  const dry = new FaultRun(factory, disk(), seed, steps, undefined, report, options.crash === true)
  const dryProblem = await dry.run()
  if (dryProblem) {
    report.failures.push(`the workload fails without faults: ${dryProblem}`)
    return report
  }
  report.operations = dry.operations
  const cases = options.cases ?? 300
  for (let c = 0; c < cases; c++) {
    if (options.only !== undefined && c !== options.only) continue
    const plan: FaultPlan = {
      point: 1 + Math.floor((c * report.operations) / cases),
      mode: c % 4 === 3 ? 'stuck' : c % 4 === 2 ? 'full' : 'once',
      code: c % 4 === 0 ? 'EIO' : 'ENOSPC',
      writes: 1 + (c % 7),
    }
    const run = new FaultRun(factory, disk(), seed, steps, plan, report, options.crash === true)
    const problem = await run.run()
    report.cases++
    if (problem) report.failures.push(`case ${c} (seed ${seed}${options.crash ? ', ending in a power loss' : ''}; ${describePlan(plan)}; ${run.faultsFired} faults fired, the first ${run.firstFault}): ${problem}`)
  }
  return report
}

function describePlan(plan: FaultPlan): string {
  if (plan.mode === 'once') return `operation ${plan.point} fails (with ${plan.code} if a write, else EIO)`
  if (plan.mode === 'stuck') return `the first write from operation ${plan.point} and the truncation after it fail with EIO`
  return `the disk is full for ${plan.writes} writes from operation ${plan.point}`
}

/** A failure of the campaign's own checks: ends a case with its message. */
class CaseFailure extends Error {}

/** A cursor held across steps, with the state it must read. */
interface HeldCursor {
  cursor: EngineCursor
  reverse: boolean
  read: [Buffer, Buffer][]
  /** The fingerprint of the state it was opened on, in key order. */
  expected: string
}

/** One run of the workload under one fault plan. */
class FaultRun {
  readonly #factory: EngineFactory
  readonly #fs: FaultableFileSystem
  readonly #seed: number
  readonly #steps: number
  readonly #plan: FaultPlan | undefined
  readonly #report: FaultReport
  /** End with a power loss rather than a close. */
  readonly #crash: boolean
  #engine!: Engine
  /** The state every acknowledged call made. */
  #acked: ExpectedState = { seq: 0, head: new Model(), named: new Map() }
  /** States calls that rejected since the last acknowledged one would have made, had they taken effect. */
  #doubts: ExpectedState[] = []
  /** The last durable state, then each state acknowledged since (`sync: false` batches): what a power loss may leave. */
  #settled: ExpectedState[] = [this.#acked]
  /** Whether a call rejected since the engine was opened: a close then need not make anything durable. */
  #rejectedSinceOpen = false
  #snapshots: { snapshot: EngineSnapshot; expected: string }[] = []
  #cursors: HeldCursor[] = []
  #batch = 0
  #named = 0
  operations = 0
  faultsFired = 0
  /** What the first fault failed, for failure messages. */
  firstFault = 'none'

  constructor(factory: EngineFactory, fs: FaultableFileSystem, seed: number, steps: number, plan: FaultPlan | undefined, report: FaultReport, crash: boolean) {
    if (crash && !(fs instanceof CrashFileSystem)) throw new TypeError('a fault campaign that ends in crashes needs a CrashFileSystem')
    this.#crash = crash
    this.#factory = factory
    this.#fs = fs
    this.#seed = seed
    this.#steps = steps
    this.#plan = plan
    this.#report = report
  }

  /** Runs the case; returns what went wrong, or undefined. */
  async run(): Promise<string | undefined> {
    this.#fs.faults = (operation, name, length) => this.#decide(operation, name, length)
    try {
      await this.#workload()
      return undefined
    } catch (error) {
      return error instanceof CaseFailure ? error.message : `the campaign met ${messageChain(error)}\n${(error as Error).stack}`
    } finally {
      this.#fs.faults = undefined
      // A case that failed part-way leaves its engine open: close it, so a real folder is let go.
      await (this.#engine as Engine | undefined)?.close().catch(() => undefined)
    }
  }

  #decide(operation: FaultOperation, name: string, length: number): Fault | undefined {
    this.operations++
    const plan = this.#plan
    if (!plan || this.operations < plan.point) return undefined
    let fault: Fault | undefined
    if (plan.mode === 'once') {
      if (this.operations !== plan.point) return undefined
      // A full disk fails writes, with some of their bytes landed; a sync or truncation fails with EIO.
      fault = operation === 'write' && plan.code === 'ENOSPC' ? { code: 'ENOSPC', written: Math.floor(length / 2) } : { code: 'EIO' }
    } else if (plan.mode === 'stuck') {
      const wanted = this.faultsFired === 0 ? 'write' : this.faultsFired === 1 ? 'truncate' : undefined
      if (operation !== wanted) return undefined
      fault = { code: 'EIO', written: operation === 'write' ? Math.floor(length / 2) : 0 }
    } else {
      if (operation !== 'write' || this.faultsFired >= plan.writes) return undefined
      fault = { code: 'ENOSPC', written: this.faultsFired === 0 ? Math.floor(length / 3) : 0 }
    }
    if (this.faultsFired === 0) this.firstFault = `a ${operation} of ${name} with ${fault.code}${(fault.written ?? 0) > 0 ? ` after ${fault.written} of ${length} bytes` : ''}`
    this.faultsFired++
    const injected = this.#report.injected
    injected[operation]++
    injected[fault.code as 'EIO' | 'ENOSPC']++
    if ((fault.written ?? 0) > 0) injected.shortWrites++
    return fault
  }

  async #workload(): Promise<void> {
    const rand = seededRandom(this.#seed)
    this.#engine = await this.#open()
    for (let step = 1; step <= this.#steps; step++) {
      const roll = rand()
      if (roll < 0.5) await this.#writeBatch(rand)
      else if (roll < 0.58) this.#takeOrReleaseSnapshot(rand)
      else if (roll < 0.64) this.#openOrCloseCursor(rand)
      else if (roll < 0.71) await this.#call('compact', () => this.#engine.compact(), this.#acked)
      else if (roll < 0.86 && hasNamedSnapshots(this.#engine)) await this.#namedStep(rand)
      else if (roll < 0.9) await this.#reopen(step)
      else await this.#writeBatch(rand)
    }
    await this.#closeAll()
    if (this.#crash) return this.#recoverFromPowerLoss()
    await this.#closeEngine()
    // The verdict: faults off, every acknowledged call is there and the database is sound.
    this.#fs.faults = undefined
    this.#engine = await this.#open()
    try {
      this.#adoptRecovered('after the last close')
      await this.#call('a write after recovery', () => this.#engine.write([{ type: 'put', key: Buffer.from('after-faults'), value: Buffer.from('ok') }]), undefined)
      if (this.#engine.get(Buffer.from('after-faults'))?.toString() !== 'ok') throw new CaseFailure('a write after recovery does not read back')
    } finally {
      await this.#closeEngine()
    }
  }

  async #writeBatch(rand: Random): Promise<void> {
    const ops = workloadBatch(this.#seed, ++this.#batch)
    const sync = rand() < 0.85
    const head = this.#acked.head.clone()
    head.apply(ops)
    await this.#call(`batch ${this.#batch}${sync ? '' : ' (sync: false)'}`, () => this.#engine.write(ops, { sync }), { ...this.#acked, seq: this.#acked.seq + 1, head }, sync)
  }

  #takeOrReleaseSnapshot(rand: Random): void {
    if (this.#snapshots.length < 4 && rand() < 0.6) {
      this.#snapshots.push({ snapshot: this.#engine.snapshot(), expected: this.#acked.head.fingerprint() })
      return
    }
    const held = this.#snapshots.splice(Math.floor(rand() * this.#snapshots.length), 1)[0]
    if (!held) return
    this.#checkSnapshot(held)
    this.#release(held.snapshot)
  }

  /** Releases a snapshot: whatever the disk does, a release unpins and does not throw. */
  #release(snapshot: EngineSnapshot): void {
    try {
      snapshot.release()
    } catch (error) {
      throw new CaseFailure(`releasing a snapshot threw ${messageChain(error)}\n${(error as Error).stack}`)
    }
  }

  #openOrCloseCursor(rand: Random): void {
    if (this.#cursors.length < 2 && rand() < 0.6) {
      const reverse = rand() < 0.3
      const held: HeldCursor = { cursor: this.#engine.iterate({ reverse }), reverse, read: [], expected: this.#acked.head.fingerprint() }
      this.#cursors.push(held)
      for (let i = 0; i < 3; i++) this.#advance(held)
      return
    }
    const held = this.#cursors.shift()
    if (held) this.#finishCursor(held)
  }

  #advance(held: HeldCursor): boolean {
    const entry = held.cursor.next()
    if (entry) held.read.push([Buffer.from(entry[0]), Buffer.from(entry[1])])
    return entry !== undefined
  }

  /** Reads the rest of a held cursor, which must give the state it was opened on, and closes it. */
  #finishCursor(held: HeldCursor): void {
    while (this.#advance(held)) {}
    try {
      held.cursor.close()
    } catch (error) {
      throw new CaseFailure(`closing a cursor threw ${messageChain(error)}\n${(error as Error).stack}`)
    }
    const found = fingerprint(held.reverse ? held.read.slice().reverse() : held.read)
    if (found !== held.expected) throw new CaseFailure(`a cursor held across the faults did not read the state it was opened on (${held.read.length} entries)`)
  }

  #checkSnapshot(held: { snapshot: EngineSnapshot; expected: string }): void {
    if (fingerprint(readAll(this.#engine, held.snapshot)) !== held.expected) {
      throw new CaseFailure(`a snapshot at seq ${held.snapshot.seq} no longer reads the state it pinned`)
    }
  }

  async #namedStep(rand: Random): Promise<void> {
    const engine = this.#engine
    if (!hasNamedSnapshots(engine)) return
    const names = [...this.#acked.named.keys()]
    const roll = rand()
    if (names.length === 0 || (roll < 0.5 && names.length < 3)) {
      const name = `snap-${++this.#named}`
      const named = new Map(this.#acked.named).set(name, this.#acked.head.clone())
      await this.#call(`creating snapshot ${name}`, () => engine.createSnapshot(name, Buffer.from(name)).then(() => undefined), { ...this.#acked, named })
    } else if (roll < 0.8) {
      const name = pick(rand, names)
      const named = new Map(this.#acked.named)
      named.delete(name)
      await this.#call(`deleting snapshot ${name}`, () => engine.deleteSnapshot(name), { ...this.#acked, named })
    } else {
      const name = pick(rand, names)
      const head = (this.#acked.named.get(name) as Model).clone()
      await this.#call(`restoring snapshot ${name}`, () => engine.restoreSnapshot(name), { ...this.#acked, seq: this.#acked.seq + 1, head })
    }
  }

  /**
   * Makes one engine call. Resolved, it is acknowledged and `after` (when it changes the state)
   * becomes the acknowledged state. Rejected, it must be STRATA_IO_ERROR naming the injected
   * errno code; `after` becomes a state the database may turn out to hold after a reopen, and the
   * reads must still give exactly the acknowledged state.
   */
  async #call(what: string, call: () => Promise<void>, after: ExpectedState | undefined, durable = true): Promise<void> {
    try {
      await withDeadline(call(), HANG_MS, what)
    } catch (error) {
      this.#judgeRejection(what, error)
      this.#report.rejected++
      this.#rejectedSinceOpen = true
      if (after && after !== this.#acked) this.#doubts.push(after)
      this.#checkReads(`after ${what} rejected`)
      return
    }
    this.#report.acknowledged++
    if (after && after !== this.#acked) {
      this.#acked = after
      if (durable) this.#settled = [after]
      else this.#settled.push(after)
    }
    this.#doubts = []
  }

  #judgeRejection(what: string, error: unknown): void {
    if (error instanceof DeadlineExceeded) throw new CaseFailure(error.message)
    if (codeOf(error) !== 'STRATA_IO_ERROR') throw new CaseFailure(`${what} rejected with ${messageChain(error)} instead of STRATA_IO_ERROR\n${(error as Error).stack}`)
    if (this.faultsFired === 0) throw new CaseFailure(`${what} rejected with ${messageChain(error)} before any fault was injected`)
    if (!/\b(ENOSPC|EIO)\b/.test(messageChain(error))) throw new CaseFailure(`${what} rejected with STRATA_IO_ERROR that does not name the errno code: ${messageChain(error)}`)
  }

  /** The head, every live snapshot and every open cursor read exactly what they must. */
  #checkReads(when: string): void {
    try {
      if (fingerprint(readAll(this.#engine)) !== this.#acked.head.fingerprint()) throw new CaseFailure(`${when}, the head does not read the acknowledged state`)
      const engine = this.#engine
      if (hasNamedSnapshots(engine)) {
        const names = engine.listSnapshots().map((s) => s.name)
        const expected = [...this.#acked.named.keys()].sort()
        if (names.join() !== expected.join()) throw new CaseFailure(`${when}, the named snapshots are ${names.join(', ') || 'none'} where ${expected.join(', ') || 'none'} were acknowledged`)
      }
      for (const held of this.#snapshots) this.#checkSnapshot(held)
      const cursor = this.#cursors[0]
      if (cursor) this.#advance(cursor)
      this.#report.readChecks++
    } catch (error) {
      if (error instanceof CaseFailure) throw error
      throw new CaseFailure(`${when}, a read failed with ${messageChain(error)}\n${(error as Error).stack}`)
    }
  }

  async #closeAll(): Promise<void> {
    for (const held of this.#snapshots.splice(0)) {
      this.#checkSnapshot(held)
      this.#release(held.snapshot)
    }
    for (const held of this.#cursors.splice(0)) this.#finishCursor(held)
  }

  async #reopen(step: number): Promise<void> {
    await this.#closeAll()
    await this.#closeEngine()
    this.#engine = await this.#open()
    this.#adoptRecovered(`at the reopen of step ${step}`)
  }

  /** Closes the engine; a close may reject only with STRATA_IO_ERROR, and must release the folder all the same. */
  async #closeEngine(): Promise<void> {
    try {
      await withDeadline(this.#engine.close(), HANG_MS, 'close')
      // A clean close makes everything durable, unless writes had stopped after a failure.
      if (!this.#rejectedSinceOpen) this.#settled = [this.#acked]
    } catch (error) {
      this.#judgeRejection('close', error)
      this.#report.failedCloses++
    }
  }

  /** Opens the folder, trying again while opens fail with STRATA_IO_ERROR under faults. */
  async #open(): Promise<Engine> {
    for (let attempt = 1; ; attempt++) {
      try {
        const engine = await withDeadline(this.#factory.open(this.#fs, { small: true }), HANG_MS, 'open')
        this.#rejectedSinceOpen = false
        return engine
      } catch (error) {
        if (this.#fs.faults === undefined || attempt >= OPEN_ATTEMPTS) throw new CaseFailure(`an open${this.#fs.faults ? ' under faults' : ' with faults off'} failed with ${messageChain(error)}\n${(error as Error).stack}`)
        this.#judgeRejection('open', error)
        this.#report.failedOpens++
      }
    }
  }

  /**
   * The verdict of a case that ends in a power loss: the disk as it is now, with its unsynced
   * writes dropped and again with the last one torn, opened with the faults off, must hold a state
   * from the last durable one to the last acknowledged one (or one a rejected call would have
   * made), with `check()` empty and a new write kept.
   */
  async #recoverFromPowerLoss(): Promise<void> {
    const fs = this.#fs as CrashFileSystem
    const states = [...fs.crashStates(fs.point)]
    this.#fs.faults = undefined
    await this.#engine.close().catch(() => undefined)
    const candidates = [...this.#settled, ...this.#doubts]
    for (const state of states) {
      const when = `after a power loss at the end (${state.mode})`
      let engine: Engine
      try {
        engine = await withDeadline(this.#factory.open(state.fs, { small: true }), HANG_MS, 'open')
      } catch (error) {
        throw new CaseFailure(`${when}, the open failed with ${messageChain(error)}\n${(error as Error).stack}`)
      }
      try {
        const found = wholeStateOf(engine)
        const match = candidates.find((s) => expectedStateKey(s) === found && s.seq === engine.seq) ?? candidates.find((s) => expectedStateKey(s) === found)
        if (!match) throw new CaseFailure(`${when}, the database holds none of the states from the last durable one (seq ${this.#settled[0]?.seq}) to the last acknowledged one (seq ${this.#acked.seq}) (it reports seq ${engine.seq})`)
        if (match.seq !== engine.seq) throw new CaseFailure(`${when}, the database holds the state of seq ${match.seq} but reports seq ${engine.seq}`)
        const problems = engine.check()
        if (problems.length > 0) throw new CaseFailure(`${when}, check(): ${problems.join('; ')}`)
        await engine.write([{ type: 'put', key: Buffer.from('after-crash'), value: Buffer.from('ok') }])
        if (engine.get(Buffer.from('after-crash'))?.toString() !== 'ok') throw new CaseFailure(`${when}, a write after recovery does not read back`)
        this.#report.crashStates++
      } catch (error) {
        if (error instanceof CaseFailure) throw error
        throw new CaseFailure(`${when}, reading the recovered database failed with ${messageChain(error)}\n${(error as Error).stack}`)
      } finally {
        await engine.close().catch(() => undefined)
      }
    }
  }

  /**
   * A reopened database must hold the acknowledged state, or one a rejected call would have made;
   * that state becomes the acknowledged one. Its sequence number must match and `check()` be empty.
   */
  #adoptRecovered(when: string): void {
    let found: string
    try {
      found = wholeStateOf(this.#engine)
    } catch (error) {
      throw new CaseFailure(`${when}, reading the reopened database failed with ${messageChain(error)}\n${(error as Error).stack}`)
    }
    const candidates = [this.#acked, ...this.#doubts]
    // A rejected batch may change nothing (deletes of absent keys): its state then differs only in seq.
    const seq = this.#engine.seq
    const match = candidates.find((state) => expectedStateKey(state) === found && state.seq === seq) ?? candidates.find((state) => expectedStateKey(state) === found)
    if (!match) {
      const lost = candidates.length > 1 ? `neither the acknowledged state nor one of ${candidates.length - 1} rejected calls'` : 'not the acknowledged state'
      throw new CaseFailure(`${when}, the database holds ${lost} (seq ${seq}, acknowledged ${this.#acked.seq})`)
    }
    if (seq !== match.seq) throw new CaseFailure(`${when}, the database holds the state of seq ${match.seq} but reports seq ${seq}`)
    if (match !== this.#acked) {
      this.#report.inDoubtKept++
      this.#settled.push(match)
    }
    this.#acked = match
    this.#doubts = []
    const problems = this.#engine.check()
    if (problems.length > 0) throw new CaseFailure(`${when}, check(): ${problems.join('; ')}`)
  }
}
