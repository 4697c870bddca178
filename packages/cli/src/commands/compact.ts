import { resolve } from 'node:path'
import type { EngineStats } from '@strata/btree'
import type { Command } from 'commander'
import { withDatabase } from '../database.js'
import { bytes, count, table } from '../human-format.js'
import type { Output } from '../output.js'

/** The size of a database's files at one moment. */
export interface FileSize {
  /** Bytes of every file of the database. */
  fileBytes: number
  /** Segment files of the log; null if the engine has none. */
  segments: number | null
}

/** What `strata compact` did (docs/operations.md §compact). */
export interface CompactReport {
  /** The database folder, as an absolute path. */
  path: string
  before: FileSize
  after: FileSize
  /** before.fileBytes − after.fileBytes: negative when there was nothing to reclaim. */
  reclaimedBytes: number
  /** Bytes the compaction wrote. */
  bytesWritten: number
}

function sizeOf(stats: EngineStats): FileSize {
  return { fileBytes: stats.fileBytes, segments: typeof stats.segments === 'number' ? stats.segments : null }
}

function showSize(size: FileSize): string {
  return `${bytes(size.fileBytes)}${size.segments === null ? '' : ` in ${count(size.segments)} segment${size.segments === 1 ? '' : 's'}`}`
}

function render(report: CompactReport): string {
  const { reclaimedBytes, before } = report
  const share = before.fileBytes === 0 ? 0 : (100 * reclaimedBytes) / before.fileBytes
  return table([
    ['compacted', report.path],
    ['before', showSize(report.before)],
    ['after', showSize(report.after)],
    reclaimedBytes >= 0 ? ['reclaimed', `${bytes(reclaimedBytes)}, ${share.toFixed(1)} % of the files`] : ['grew by', `${bytes(-reclaimedBytes)}: there was nothing to reclaim`],
    ['wrote', bytes(report.bytesWritten)],
  ])
}

/** Adds `strata compact <db>`: rewrites what the current tree uses into new segments and removes the old ones. */
export function addCompactCommand(program: Command, output: Output): void {
  program
    .command('compact')
    .description('reclaim the space of superseded pages and log now: rewrite what the current tree uses and remove the old segments (writes to the database)')
    .argument('<db>', 'the database folder')
    .option('--json', 'print JSON for scripts')
    .action(async (db: string, options: { json?: true }) => {
      const report = await withDatabase(db, 'write', async (engine): Promise<CompactReport> => {
        const before = engine.stats()
        // compact() is one engine call that reports no progress, so a person is told it started.
        if (output.interactive) output.note(`compacting ${showSize(sizeOf(before))}…`)
        await engine.compact()
        const after = engine.stats()
        return {
          path: resolve(db),
          before: sizeOf(before),
          after: sizeOf(after),
          reclaimedBytes: before.fileBytes - after.fileBytes,
          bytesWritten: after.io.totalWritten - before.io.totalWritten,
        }
      })
      await (options.json ? output.json(report) : output.write(render(report)))
    })
}
