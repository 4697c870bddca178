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
  /** Each named snapshot, with the bytes it alone keeps the compaction from freeing: what deleting it frees. */
  snapshots: KeptBySnapshot[]
}

/** A named snapshot, and the bytes of the files that only it keeps. */
export interface KeptBySnapshot {
  name: string
  exclusiveBytes: number
}

function sizeOf(stats: EngineStats): FileSize {
  return { fileBytes: stats.fileBytes, segments: typeof stats.segments === 'number' ? stats.segments : null }
}

function showSize(size: FileSize): string {
  return `${bytes(size.fileBytes)}${size.segments === null ? '' : ` in ${count(size.segments)} segment${size.segments === 1 ? '' : 's'}`}`
}

function render(report: CompactReport): string {
  const { reclaimedBytes, before, snapshots } = report
  const share = before.fileBytes === 0 ? 0 : (100 * reclaimedBytes) / before.fileBytes
  const kept = snapshots.filter((s) => s.exclusiveBytes > 0)
  const nothingLeft = kept.length === 0 ? 'there was nothing to reclaim' : 'there was nothing to reclaim that snapshots do not keep'
  return table([
    ['compacted', report.path],
    ['before', showSize(report.before)],
    ['after', showSize(report.after)],
    reclaimedBytes >= 0 ? ['reclaimed', `${bytes(reclaimedBytes)}, ${share.toFixed(1)} % of the files`] : ['grew by', `${bytes(-reclaimedBytes)}: ${nothingLeft}`],
    ['wrote', bytes(report.bytesWritten)],
    // What is left that only a snapshot keeps: deleting it frees that much.
    ...kept.map((s, i): [string, string] => [i === 0 ? 'kept' : '', `${bytes(s.exclusiveBytes)} by snapshot ${JSON.stringify(s.name)} (deleting it frees that)`]),
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
          snapshots: engine.listSnapshots().map(({ name, exclusiveBytes }) => ({ name, exclusiveBytes })),
        }
      })
      await (options.json ? output.json(report) : output.write(render(report)))
    })
}
