import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NodeFileSystem } from '@strata/storage'
import { type EngineFactory, readAll } from './engine-factory.js'
import { codeOf, messageChain } from './error-codes.js'
import { fingerprint, Model } from './model.js'
import { BATCH_MARKER, batchMarker, heavyBatch } from './workload.js'

/** What a disk-full campaign did and found. */
export interface DiskFullReport {
  /** Child processes run until their disk was full. */
  runs: number
  /** The file size limit each child ran under, in bytes, as it reported it. */
  limits: (number | string)[]
  /** Batches the children acknowledged in all. */
  acknowledged: number
  /** Writes refused with STRATA_IO_ERROR: the one that hit the limit (EFBIG) in each run, and the small write tried after it. */
  refusedWrites: number
  /** How the children's closes went: resolved, or rejected with STRATA_IO_ERROR (the final checkpoint did not fit). */
  closes: { ok: number; rejected: number }
  /** Opens by this process refused with LEVEL_LOCKED while a child held the folder. */
  lockRefusals: number
  /** Problems found (empty when every acknowledged batch survived and every error was clear). */
  failures: string[]
}

/** The report in one line, for a test's log. */
export function describeDiskFullReport(report: DiskFullReport): string {
  const limits = report.limits.map((l) => (typeof l === 'number' ? `${l / 1024} KiB` : l)).join(', ')
  return `${report.runs} processes under ulimit -f (${limits}), ${report.acknowledged} batches acknowledged, ${report.refusedWrites} writes refused with STRATA_IO_ERROR (EFBIG), closes: ${report.closes.ok} clean, ${report.closes.rejected} rejected with STRATA_IO_ERROR; ${report.lockRefusals} opens refused with LEVEL_LOCKED; ${report.failures.length} failures`
}

/** Options of {@link diskFullCampaign}. */
export interface DiskFullCampaignOptions {
  /** Children to run, each under a larger limit than the one before. Default 4. */
  runs?: number
  /** Seed of the batches. Default 1. */
  seed?: number
}

/** The key of the small write a child tries after its disk filled. */
export const AFTER_FULL_KEY = Buffer.from('~after-full')

/** The child's script, built beside this module. */
const CHILD_SCRIPT = fileURLToPath(new URL('../dist/disk-full-child.js', import.meta.url))
/** How long a child may take, from start to exit. */
const CHILD_MS = 60_000

/** The lines a child reported, merged into one object. */
interface ChildLines {
  ready?: number
  limit?: number | string
  ack?: number
  failed?: number
  code?: string
  error?: string
  reads?: string
  again?: string
  closed?: string
  crashed?: string
}

/**
 * A real full disk: a child process (the built packages, run by `node`) opens a database on the
 * real file system under a file size limit (`ulimit -f`, RLIMIT_FSIZE: Node ignores SIGXFSZ, so a
 * write past the limit is cut short and the next fails with EFBIG, as a full disk fails with
 * ENOSPC) and writes heavy durable batches until one fails. The failing write must reject with
 * STRATA_IO_ERROR naming EFBIG; reads must then give exactly the acknowledged batches; a further
 * write lands or rejects with STRATA_IO_ERROR; the close must finish (rejecting at most with
 * STRATA_IO_ERROR) and remove the lock. This process then opens the folder without a limit: every
 * acknowledged batch is there and nothing of the failed one, and `check()` is empty. While each
 * child holds the folder, this process's open of it must fail with LEVEL_LOCKED.
 */
export async function diskFullCampaign(factory: EngineFactory, options: DiskFullCampaignOptions = {}): Promise<DiskFullReport> {
  const location = factory.location
  if (!location) throw new TypeError(`diskFullCampaign needs ${factory.name}'s factory to have a location a child process can import`)
  const runs = options.runs ?? 4
  const seed = options.seed ?? 1
  const report: DiskFullReport = { runs: 0, limits: [], acknowledged: 0, refusedWrites: 0, closes: { ok: 0, rejected: 0 }, lockRefusals: 0, failures: [] }
  for (let run = 0; run < runs; run++) {
    const folder = mkdtempSync(join(tmpdir(), 'strata-full-'))
    // 160 KiB for the first child, then 128 KiB more for each: the limit lands in other records.
    const limitKiB = 160 + 128 * run
    try {
      const problem = await runChild(factory, location, folder, seed + run, limitKiB, report)
      report.runs++
      if (problem) report.failures.push(`run ${run} (seed ${seed + run}, ulimit ${limitKiB} KiB): ${problem}`)
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  }
  return report
}

/** Runs one child to a full disk and checks what it and the folder show; returns what is wrong, or undefined. */
async function runChild(factory: EngineFactory, location: NonNullable<EngineFactory['location']>, folder: string, seed: number, limitKiB: number, report: DiskFullReport): Promise<string | undefined> {
  // `ulimit -f` counts 512-byte blocks in a POSIX shell (1024-byte ones in bash); the child reports the limit in bytes.
  const child = spawn('/bin/sh', ['-c', 'ulimit -f "$1" && shift && exec "$@"', 'sh', String(limitKiB * 2), process.execPath, CHILD_SCRIPT, location.module, location.exportName, folder, String(seed)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const lines: ChildLines = {}
  let acks = 0
  let stderr = ''
  let onReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    onReady = resolve
  })
  let pending = ''
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString()
    const parts = pending.split('\n')
    pending = parts.pop() ?? ''
    for (const part of parts) {
      const message = JSON.parse(part) as ChildLines
      if (message.ack !== undefined) acks++
      Object.assign(lines, message)
      if (message.ready !== undefined || message.crashed !== undefined) onReady()
    }
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_MS)
  try {
    await Promise.race([ready, exited])
    if (lines.ready === undefined) return `the child never opened the database: ${lines.crashed ?? stderr}`
    report.limits.push(lines.limit ?? 'unknown')
    // The child holds the folder until it is told to go on.
    const refused = await probeLock(factory, folder)
    if (refused) report.lockRefusals++
    child.stdin.end('go\n')
    const status = await exited
    report.acknowledged += acks
    if (lines.crashed !== undefined) return `the child failed: ${lines.crashed}`
    if (status !== 0) return `the child exited with status ${status} (a hang is killed after ${CHILD_MS / 1000} s): ${stderr}`
    if (!refused) return 'this process opened the folder while the child held it'
    const acked = lines.ack ?? 0
    // What the child saw.
    if (lines.failed !== acked + 1) return `the child's writes ended at batch ${lines.failed}, after ${acked} acknowledged`
    if (lines.code !== 'STRATA_IO_ERROR' || !/\bEFBIG\b/.test(lines.error ?? '')) return `the write past the limit failed with ${lines.code}: ${lines.error} (expected STRATA_IO_ERROR naming EFBIG)`
    report.refusedWrites++
    if (lines.reads !== 'ok') return `after the failed write, reads gave: ${lines.reads}`
    if (lines.again !== 'ok') {
      if (lines.again !== 'STRATA_IO_ERROR') return `the write after the failed one failed with ${lines.again}: ${lines.error}`
      report.refusedWrites++
    }
    if (lines.closed === 'ok') report.closes.ok++
    else if (lines.closed === 'STRATA_IO_ERROR') report.closes.rejected++
    else return `the close failed with ${lines.closed}: ${lines.error}`
    if (existsSync(join(folder, 'LOCK'))) return 'the closed database left its LOCK file behind'
    return await checkFolder(factory, folder, seed, acked, lines.again === 'ok')
  } finally {
    clearTimeout(timer)
    child.kill('SIGKILL')
  }
}

/** Whether an open of a folder a live child holds is refused with LEVEL_LOCKED. */
async function probeLock(factory: EngineFactory, folder: string): Promise<boolean> {
  try {
    const intruder = await factory.open(new NodeFileSystem(folder))
    await intruder.close()
    return false
  } catch (error) {
    return codeOf(error) === 'LEVEL_LOCKED'
  }
}

/** Opens the folder without a limit: it must hold batches 1 to `acked` exactly (and the small write, if it landed), soundly. */
async function checkFolder(factory: EngineFactory, folder: string, seed: number, acked: number, afterFull: boolean): Promise<string | undefined> {
  let engine: Awaited<ReturnType<EngineFactory['open']>>
  try {
    engine = await factory.open(new NodeFileSystem(folder))
  } catch (error) {
    return `opening the folder after the disk filled failed with ${messageChain(error)}`
  }
  try {
    const found = batchMarker(engine.get(BATCH_MARKER))
    if (found !== acked) return `the folder holds batches up to ${found}, but ${acked} were acknowledged and the next one failed`
    const model = new Model()
    for (let n = 1; n <= acked; n++) model.apply(heavyBatch(seed, n))
    if (afterFull) model.put(AFTER_FULL_KEY, Buffer.from('x'))
    if (fingerprint(readAll(engine)) !== model.fingerprint()) return `the folder does not hold exactly batches 1 to ${acked}${afterFull ? ' and the write after them' : ''}`
    const problems = engine.check()
    if (problems.length > 0) return `check: ${problems.join('; ')}`
    return undefined
  } finally {
    await engine.close()
  }
}
