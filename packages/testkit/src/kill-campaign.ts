import { type ChildProcess, spawn } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NodeFileSystem } from '@strata/storage'
import { type EngineFactory, readAll } from './engine-factory.js'
import { Model } from './model.js'
import { between, seededRandom } from './random.js'
import { BATCH_MARKER, batchMarker, markedBatch } from './workload.js'

/** What a kill campaign did and found. */
export interface KillReport {
  /** Child processes killed with SIGKILL. */
  kills: number
  /** Kills that landed before the child reported its open (during start-up or recovery). */
  killedOpening: number
  /** Kills that landed while the child wrote, snapshotted and compacted. */
  killedWriting: number
  /** Batches the children acknowledged in all. */
  acknowledged: number
  /** Of those, batches written with `sync: false`: acknowledged once the OS had them, before they were durable. */
  unsynced: number
  /** Kills after which the batch in flight, never acknowledged, was found whole. */
  inFlightKept: number
  /** Opens by this process refused with LEVEL_LOCKED while a child held the folder. */
  lockRefusals: number
  /** Problems found (empty when every acknowledged batch survived every kill). */
  failures: string[]
}

/** The report in one line, for a test's log. */
export function describeKillReport(report: KillReport): string {
  return `${report.kills} kills (${report.killedOpening} while opening, ${report.killedWriting} while writing), ${report.acknowledged} batches acknowledged, ${report.inFlightKept} unacknowledged batches found whole, ${report.lockRefusals} opens refused with LEVEL_LOCKED; ${report.failures.length} failures`
}

/** Options of {@link killCampaign}. */
export interface KillCampaignOptions {
  /** How many times to kill a child. Default 50. */
  kills?: number
  /** Seed of the workload and of the kill moments. Default 1. */
  seed?: number
  /** Share of the child's batches written with `sync: false`; a kill loses none of them, since the OS has their bytes. Default 0. */
  unsynced?: number
}

/** The child's script, built beside this module. */
const CHILD_SCRIPT = fileURLToPath(new URL('../dist/kill-child.js', import.meta.url))

/** One run of the child process, with the lines it has reported so far. */
class ChildRun {
  readonly process: ChildProcess
  ready: number | undefined
  lastAck = 0
  acks = 0
  unsyncedAcks = 0
  error: string | undefined
  stderr = ''
  readonly exited: Promise<void>
  #waiters: (() => void)[] = []

  constructor(factory: NonNullable<EngineFactory['location']>, folder: string, seed: number, unsynced: number) {
    this.process = spawn(process.execPath, [CHILD_SCRIPT, factory.module, factory.exportName, folder, String(seed), String(unsynced)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let pending = ''
    this.process.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString()
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) this.#receive(JSON.parse(line) as { ready?: number; ack?: number; unsynced?: boolean; error?: string })
    })
    this.process.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString()
    })
    // 'close', not 'exit': by then every line the child wrote has been read.
    this.exited = new Promise((resolve) => this.process.once('close', () => resolve()))
  }

  #receive(message: { ready?: number; ack?: number; unsynced?: boolean; error?: string }): void {
    if (message.ready !== undefined) this.ready = message.ready
    if (message.ack !== undefined) {
      this.lastAck = message.ack
      this.acks++
      if (message.unsynced) this.unsyncedAcks++
    }
    if (message.error !== undefined) this.error = message.error
    for (const wake of this.#waiters.splice(0)) wake()
  }

  /** Resolves once the child has reported its open (true), or exited or timed out first (false). */
  async whenReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (this.ready === undefined && this.process.exitCode === null && this.process.signalCode === null && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50)
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    return this.ready !== undefined
  }

  /** Kills the child with SIGKILL; false if it had already exited by itself. */
  async kill(): Promise<boolean> {
    const alive = this.process.exitCode === null && this.process.signalCode === null
    this.process.kill('SIGKILL')
    await this.exited
    return alive
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Real kills: a child process (the built packages, run by `node`) writes durable batches to a
 * folder on disk, takes and checks snapshots and compacts; this process kills it with SIGKILL at a
 * random moment (now and then before it has even opened the database, else a random time into its
 * writes), copies the folder as the kill left it, and opens the copy: every batch the child
 * acknowledged must be there, the one it had in flight whole or absent, nothing else, and
 * `check()` empty. The next child opens the folder itself, so each child recovers from the kill
 * before it. While a child holds the folder, this process's open of it must fail with LEVEL_LOCKED.
 */
export async function killCampaign(factory: EngineFactory, options: KillCampaignOptions = {}): Promise<KillReport> {
  const location = factory.location
  if (!location) throw new TypeError(`killCampaign needs ${factory.name}'s factory to have a location a child process can import`)
  const kills = options.kills ?? 50
  const seed = options.seed ?? 1
  const unsynced = options.unsynced ?? 0
  const rand = seededRandom(seed)
  const folder = mkdtempSync(join(tmpdir(), 'strata-kill-'))
  const report: KillReport = { kills: 0, killedOpening: 0, killedWriting: 0, acknowledged: 0, unsynced: 0, inFlightKept: 0, lockRefusals: 0, failures: [] }
  // The state the folder is known to hold: every batch up to `held`.
  const model = new Model()
  let held = 0
  try {
    for (let round = 1; round <= kills && report.failures.length === 0; round++) {
      const where = `seed ${seed}, kill ${round}`
      const child = new ChildRun(location, folder, seed, unsynced)
      if (rand() < 0.12) {
        await sleep(between(rand, 0, 150))
        if (child.ready === undefined) report.killedOpening++
        else report.killedWriting++
      } else {
        if (!(await child.whenReady(30_000))) {
          await child.kill()
          report.failures.push(`${where}: the child never opened the database: ${child.error ?? child.stderr}`)
          break
        }
        await sleep(between(rand, 0, 250))
        if (rand() < 0.25) await probeLock(factory, folder, report, where)
        report.killedWriting++
      }
      if (!(await child.kill())) {
        report.failures.push(`${where}: the child exited by itself: ${child.error ?? child.stderr}`)
        break
      }
      report.kills++
      report.acknowledged += child.acks
      report.unsynced += child.unsyncedAcks
      if (child.ready !== undefined && child.ready !== held) report.failures.push(`${where}: the child recovered batch ${child.ready}, but the folder held batch ${held}`)
      const found = await checkFolder(factory, folder, Math.max(held, child.lastAck), model, seed)
      if (typeof found === 'string') {
        report.failures.push(`${where}: ${found}`)
        break
      }
      if (found > Math.max(held, child.lastAck)) report.inFlightKept++
      held = found
    }
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
  return report
}

/** An open of a folder a live child holds must be refused with LEVEL_LOCKED, and touch nothing. */
async function probeLock(factory: EngineFactory, folder: string, report: KillReport, where: string): Promise<void> {
  try {
    const intruder = await factory.open(new NodeFileSystem(folder), { small: true })
    await intruder.close()
    report.failures.push(`${where}: a second process opened the folder while the child held it`)
  } catch (error) {
    if ((error as { code?: unknown }).code === 'LEVEL_LOCKED') report.lockRefusals++
    else report.failures.push(`${where}: a second open failed with ${(error as Error).stack} instead of LEVEL_LOCKED`)
  }
}

/**
 * Opens a copy of the folder as the kill left it and checks it holds batches 1 to n, where n is
 * `acked` or `acked` + 1 (the batch in flight), exactly; returns n, or what is wrong. `model`,
 * holding an earlier state, is brought forward to batch n.
 */
async function checkFolder(factory: EngineFactory, folder: string, acked: number, model: Model, seed: number): Promise<number | string> {
  const copy = mkdtempSync(join(tmpdir(), 'strata-kill-check-'))
  try {
    cpSync(folder, copy, { recursive: true, filter: (source) => !source.endsWith('/LOCK') })
    const engine = await factory.open(new NodeFileSystem(copy), { small: true })
    try {
      const found = batchMarker(engine.get(BATCH_MARKER))
      if (found < acked) return `acknowledged batch ${acked} is lost: the folder holds batches up to ${found}`
      if (found > acked + 1) return `the folder holds batch ${found}, but only ${acked} were acknowledged and one was in flight`
      let at = batchMarker(model.get(BATCH_MARKER))
      while (at < found) model.apply(markedBatch(seed, ++at))
      const entries = readAll(engine)
      const expected = model.range()
      if (entries.length !== expected.length || entries.some(([k, v], i) => !k.equals(expected[i]?.[0] as Buffer) || !v.equals(expected[i]?.[1] as Buffer))) {
        return `the folder names batch ${found} but does not hold exactly batches 1 to ${found} (${entries.length} entries, expected ${expected.length})`
      }
      const problems = engine.check()
      if (problems.length > 0) return `check: ${problems.join('; ')}`
      return found
    } finally {
      await engine.close()
    }
  } catch (error) {
    return `opening the folder after the kill failed: ${(error as Error).stack}`
  } finally {
    rmSync(copy, { recursive: true, force: true })
  }
}
