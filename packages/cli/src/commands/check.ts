import { resolve } from 'node:path'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { Engine, EngineCursor } from '@strata/btree'
import { ErrorCode } from '@strata/storage'
import type { Command } from 'commander'
import { showBytes } from '../bytes-text.js'
import { CliError } from '../cli-error.js'
import { openDatabase } from '../database.js'
import { bytes, count } from '../human-format.js'
import type { Output } from '../output.js'
import { progressBar } from '../progress.js'

/** What `strata check` found (docs/operations.md §check). */
export interface CheckReport {
  /** The database folder, as an absolute path. */
  path: string
  /** True when no problem was found. */
  ok: boolean
  /** Each problem found, in words; empty when the database is sound. */
  problems: string[]
  /** Entries read by the full read pass (those before a read failed, if one did). */
  entries: number
  /** Key and value bytes the read pass read. */
  bytesRead: number
}

/** Entries read between two pauses that let a progress bar redraw. */
const PAUSE_EVERY = 4096
/** A read pass over fewer key and value bytes than this ends too soon to need a progress bar. */
const PROGRESS_FROM_BYTES = 8 * 1024 * 1024

/**
 * Checks a database:
 * 1. The engine's own check: every node's invariants, every page and value checksum, the space
 *    accounting.
 * 2. A read pass over every entry, as a reader would make it, reading every value.
 * 3. The read pass must find the key and value bytes the database records.
 */
async function checkDatabase(engine: Engine, output: Output): Promise<{ problems: string[]; entries: number; bytesRead: number }> {
  // 1. It lists what it finds, but damage it cannot walk past (a named snapshot's root) throws.
  const problems: string[] = []
  try {
    problems.push(...engine.check())
  } catch (error) {
    problems.push(`the engine's check stopped: ${(error as Error).message}`)
  }
  // 2.
  const { liveBytes } = engine.stats()
  const bar = output.interactive && liveBytes >= PROGRESS_FROM_BYTES ? progressBar('reading every value', liveBytes, output.stderr as NodeJS.WriteStream) : undefined
  let cursor: EngineCursor | undefined
  let entries = 0
  let bytesRead = 0
  let lastKey: Buffer | undefined
  let readFailed = false
  try {
    // Opening the cursor already reads the pages down to the first leaf.
    cursor = engine.iterate()
    for (let entry = cursor.next(); entry; entry = cursor.next()) {
      entries++
      bytesRead += entry[0].length + entry[1].length
      lastKey = entry[0]
      if (entries % PAUSE_EVERY === 0 && bar) {
        bar.update(bytesRead)
        await yieldToEventLoop()
      }
    }
  } catch (error) {
    readFailed = true
    const where = lastKey === undefined ? 'before the first key' : `after key ${showBytes(lastKey, false)}`
    problems.push(`reading every entry stopped ${where}: ${(error as Error).message}`)
  } finally {
    cursor?.close()
    bar?.update(bytesRead)
    bar?.stop()
  }
  // 3.
  if (!readFailed && bytesRead !== liveBytes) problems.push(`the entries hold ${count(bytesRead)} bytes of keys and values, but the database records ${count(liveBytes)}`)
  return { problems, entries, bytesRead }
}

/** Checks the database at `db`; one too damaged to open gives a report with that problem, not an error. */
async function checkOrExplain(db: string, output: Output): Promise<CheckReport> {
  const path = resolve(db)
  let engine: Engine
  try {
    engine = await openDatabase(db, 'read')
  } catch (error) {
    if ((error as { code?: unknown }).code !== ErrorCode.CORRUPTION) throw error
    return { path, ok: false, problems: [`the database does not open: ${(error as Error).message}`], entries: 0, bytesRead: 0 }
  }
  let found: Awaited<ReturnType<typeof checkDatabase>>
  try {
    found = await checkDatabase(engine, output)
  } finally {
    await engine.close()
  }
  return { path, ok: found.problems.length === 0, ...found }
}

function render(report: CheckReport): string {
  if (report.ok) return `ok: ${report.path}: ${count(report.entries)} entries, ${bytes(report.bytesRead)} of keys and values; every page, value and checksum verified\n`
  return report.problems.map((problem) => `problem: ${problem}\n`).join('')
}

/** Adds `strata check <db>`: every invariant and checksum, and every value read; LEVEL_CORRUPTION if anything is wrong. */
export function addCheckCommand(program: Command, output: Output): void {
  program
    .command('check')
    .description('verify every invariant and checksum and read every value (opens the database read-only); exits with status 6 if anything is wrong')
    .argument('<db>', 'the database folder')
    .option('--json', 'print JSON for scripts')
    .action(async (db: string, options: { json?: true }) => {
      const report = await checkOrExplain(db, output)
      await (options.json ? output.json(report) : output.write(render(report)))
      if (!report.ok) {
        const n = report.problems.length
        throw new CliError(ErrorCode.CORRUPTION, `${n} problem${n === 1 ? '' : 's'} found in ${report.path}`)
      }
    })
}
