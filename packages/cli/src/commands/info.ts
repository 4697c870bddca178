import { resolve } from 'node:path'
import type { EngineStats, NamedSnapshotInfo } from '@strata/btree'
import type { Command } from 'commander'
import { withDatabase } from '../database.js'
import { bytes, count, ratio, table } from '../human-format.js'
import type { Output } from '../output.js'

/** What `strata info` reports about a database (docs/operations.md §info). */
export interface DatabaseInfo {
  /** The database folder, as an absolute path. */
  path: string
  /** `row`: the redirect-on-write engine. */
  engine: string
  pageSize: number
  /** Sequence number of the last committed batch. */
  seq: number
  /** Bytes of every file of the database: the log's segments and META. */
  fileBytes: number
  /** Key and value bytes of the current entries. */
  liveBytes: number
  /** Bytes of the log the current tree uses; the rest is what compaction can reclaim. Null if the engine does not say. */
  usedBytes: number | null
  /** fileBytes ÷ liveBytes; null for an empty database. */
  spaceAmplification: number | null
  /** Segment files of the log; null if the engine has none. */
  segments: number | null
  /** Bytes written ÷ user bytes since the database was opened; null when nothing was written, which is always so for `info`. */
  writeAmplification: number | null
  /** The named snapshots, by name. */
  snapshots: SnapshotSummary[]
}

/** A named snapshot as `strata info` lists it. */
export interface SnapshotSummary {
  name: string
  /** The sequence number of the last batch the snapshot sees. */
  seq: number
  /** When it was created, as an ISO 8601 time. */
  createdAt: string
  /** Bytes on storage that only this snapshot keeps: what deleting it would free. */
  exclusiveBytes: number
}

const ENGINE_NAMES: Readonly<Record<string, string>> = { row: 'redirect-on-write' }

/** What `strata info` reports, from the stats and snapshots of the database at `path` as it opened. */
function describeDatabase(path: string, stats: EngineStats, snapshots: NamedSnapshotInfo[]): DatabaseInfo {
  return {
    path: resolve(path),
    engine: stats.engine,
    pageSize: stats.pageSize,
    seq: stats.seq,
    fileBytes: stats.fileBytes,
    liveBytes: stats.liveBytes,
    usedBytes: typeof stats.usedBytes === 'number' ? stats.usedBytes : null,
    spaceAmplification: stats.liveBytes === 0 ? null : stats.spaceAmplification,
    segments: typeof stats.segments === 'number' ? stats.segments : null,
    writeAmplification: stats.io.userBytes === 0 ? null : stats.io.writeAmplification,
    snapshots: snapshots.map(({ name, seq, createdAt, exclusiveBytes }) => ({ name, seq, createdAt: new Date(createdAt).toISOString(), exclusiveBytes })),
  }
}

function render(info: DatabaseInfo): string {
  const engineName = ENGINE_NAMES[info.engine]
  return table([
    ['database', info.path],
    ['engine', engineName ? `${info.engine} (${engineName})` : info.engine],
    ['page size', bytes(info.pageSize)],
    ['sequence', `${count(info.seq)} (last committed batch)`],
    ['file bytes', `${bytes(info.fileBytes)}${info.segments === null ? '' : ` in ${count(info.segments)} segment${info.segments === 1 ? '' : 's'} and META`}`],
    ['live bytes', `${bytes(info.liveBytes)} of keys and values`],
    ...(info.usedBytes === null ? [] : [['used bytes', `${bytes(info.usedBytes)} of the log in use by the current tree`] as const]),
    ['space amp.', info.spaceAmplification === null ? 'none (the database is empty)' : `${ratio(info.spaceAmplification)} (file bytes ÷ live bytes)`],
    ['write amp.', info.writeAmplification === null ? 'not measured: it is counted while a process writes (db.stats().io)' : ratio(info.writeAmplification)],
    ['snapshots', info.snapshots.length === 0 ? 'none named' : `${count(info.snapshots.length)} named`],
    ...info.snapshots.map(
      (s) => ['', `${JSON.stringify(s.name)} at sequence ${count(s.seq)}, created ${s.createdAt}, holds ${bytes(s.exclusiveBytes)} alone`] as const,
    ),
  ])
}

/** Adds `strata info <db>`: engine, page size, sizes, segments, sequence number and named snapshots of a database, read-only. */
export function addInfoCommand(program: Command, output: Output): void {
  program
    .command('info')
    .description('show the engine, page size, sizes, segments, sequence number and named snapshots of a database (opens it read-only)')
    .argument('<db>', 'the database folder')
    .option('--json', 'print JSON for scripts')
    .action(async (db: string, options: { json?: true }) => {
      const info = await withDatabase(db, 'read', async (engine) => describeDatabase(db, engine.stats(), engine.listSnapshots()))
      await (options.json ? output.json(info) : output.write(render(info)))
    })
}
