import { resolve } from 'node:path'
import type { CacheStats, EngineStats, NamedSnapshotInfo } from '@strata/btree'
import type { Command } from 'commander'
import { withDatabase } from '../database.js'
import { bytes, count, ratio, table } from '../human-format.js'
import type { Output } from '../output.js'

/** What `strata info` reports about a database (docs/operations.md §info). */
export interface DatabaseInfo {
  /** The database folder, as an absolute path. */
  path: string
  /** `row`: the redirect-on-write engine; `cow`: the copy-before-write engine. */
  engine: string
  /**
   * How a copy-before-write database keeps pre-images, `shared` or `per-snapshot`, as its named
   * snapshots fixed it; null without named snapshots (each open then chooses), and for the
   * redirect-on-write engine.
   */
  storeMode: string | null
  pageSize: number
  /** Sequence number of the last committed batch. */
  seq: number
  /** Bytes of every file of the database: META and the log's segments, or pages.db, wal.log and the pre-image stores. */
  fileBytes: number
  /**
   * Bytes of fileBytes in files other databases name too (hard links: the sealed segments a clone
   * shares with its source and other clones). A reflinked copy has one name, so it counts as owned.
   */
  sharedBytes: number
  /** fileBytes − sharedBytes: bytes of files this database alone names. */
  ownedBytes: number
  /** Key and value bytes of the current entries. */
  liveBytes: number
  /** Bytes of the log the current tree uses; the rest is what compaction can reclaim. Null if the engine does not say. */
  usedBytes: number | null
  /** fileBytes ÷ liveBytes; null for an empty database. */
  spaceAmplification: number | null
  /** Segment files of the log; null if the engine has none. */
  segments: number | null
  /** Free pages of pages.db, reused before the file grows; null if the engine has none. */
  freePages: number | null
  /** Bytes of the pre-image stores: the page copies named snapshots keep; null if the engine has none. */
  preimageBytes: number | null
  /** Bytes written ÷ user bytes since the database was opened; null when nothing was written, which is always so for `info`. */
  writeAmplification: number | null
  /** The page cache of this open: its budget (the default `cacheSize`), the clean and dirty bytes held, hits, misses and evictions. */
  cache: CacheStats
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

const ENGINE_NAMES: Readonly<Record<string, string>> = { row: 'redirect-on-write', cow: 'copy-before-write' }

/** A number `stats()` gives only for some engines, or null. */
const optional = (value: unknown): number | null => (typeof value === 'number' ? value : null)

/** What `strata info` reports, from the stats and snapshots of the database at `path` as it opened. */
function describeDatabase(path: string, stats: EngineStats, snapshots: NamedSnapshotInfo[]): DatabaseInfo {
  return {
    path: resolve(path),
    engine: stats.engine,
    // The mode of a copy-before-write open is its own unless named snapshots fixed it.
    storeMode: typeof stats.storeMode === 'string' && snapshots.length > 0 ? stats.storeMode : null,
    pageSize: stats.pageSize,
    seq: stats.seq,
    fileBytes: stats.fileBytes,
    sharedBytes: stats.sharedBytes,
    ownedBytes: stats.ownedBytes,
    liveBytes: stats.liveBytes,
    usedBytes: optional(stats.usedBytes),
    spaceAmplification: stats.liveBytes === 0 ? null : stats.spaceAmplification,
    segments: optional(stats.segments),
    freePages: optional(stats.freePages),
    preimageBytes: optional(stats.preimageBytes),
    writeAmplification: stats.io.userBytes === 0 ? null : stats.io.writeAmplification,
    cache: stats.cache,
    snapshots: snapshots.map(({ name, seq, createdAt, exclusiveBytes }) => ({ name, seq, createdAt: new Date(createdAt).toISOString(), exclusiveBytes })),
  }
}

/** Where the file bytes are, in words: the engine's files. */
function filesIn(info: DatabaseInfo): string {
  if (info.segments !== null) return ` in ${count(info.segments)} segment${info.segments === 1 ? '' : 's'} and META`
  if (info.preimageBytes !== null) return info.preimageBytes > 0 ? ' in pages.db, wal.log and pre-image stores' : ' in pages.db and wal.log'
  return ''
}

/** The page cache in words: what it holds of its budget, and how its reads went in this open. */
function describeCache(cache: CacheStats): string {
  const reads = `${count(cache.hits)} hit${cache.hits === 1 ? '' : 's'}, ${count(cache.misses)} miss${cache.misses === 1 ? '' : 'es'}, ${count(cache.evictions)} eviction${cache.evictions === 1 ? '' : 's'}`
  return `${bytes(cache.cleanBytes)} clean of a ${bytes(cache.budget)} budget, ${bytes(cache.dirtyBytes)} dirty; ${reads} in this open`
}

function render(info: DatabaseInfo): string {
  const engineName = ENGINE_NAMES[info.engine]
  const cow = info.engine === 'cow'
  return table([
    ['database', info.path],
    ['engine', engineName ? `${info.engine} (${engineName})` : info.engine],
    ...(cow ? [['store mode', info.storeMode === null ? 'none yet: each open chooses (shared by default) until a named snapshot fixes it' : `${info.storeMode} (fixed by its named snapshots)`] as const] : []),
    ['page size', bytes(info.pageSize)],
    ['sequence', `${count(info.seq)} (last committed batch)`],
    ['file bytes', `${bytes(info.fileBytes)}${filesIn(info)}`],
    ['shared', info.sharedBytes === 0 ? 'none: no file is hard-linked with another database' : `${bytes(info.sharedBytes)} in files hard-linked with other databases (a clone, its source)`],
    ['owned', `${bytes(info.ownedBytes)} in files this database alone names`],
    ['live bytes', `${bytes(info.liveBytes)} of keys and values`],
    ...(info.usedBytes === null ? [] : [['used bytes', `${bytes(info.usedBytes)} of the log in use by the current tree`] as const]),
    ...(info.freePages === null ? [] : [['free pages', `${count(info.freePages)} page${info.freePages === 1 ? '' : 's'}, ${bytes(info.freePages * info.pageSize)}, reused before pages.db grows`] as const]),
    ...(info.preimageBytes === null ? [] : [['pre-images', `${bytes(info.preimageBytes)} of page copies kept for named snapshots`] as const]),
    ['space amp.', info.spaceAmplification === null ? 'none (the database is empty)' : `${ratio(info.spaceAmplification)} (file bytes ÷ live bytes)`],
    ['write amp.', info.writeAmplification === null ? 'not measured: it is counted while a process writes (db.stats().io)' : ratio(info.writeAmplification)],
    ['page cache', describeCache(info.cache)],
    ['snapshots', info.snapshots.length === 0 ? 'none named' : `${count(info.snapshots.length)} named`],
    ...info.snapshots.map(
      (s) => ['', `${JSON.stringify(s.name)} at sequence ${count(s.seq)}, created ${s.createdAt}, holds ${bytes(s.exclusiveBytes)} alone`] as const,
    ),
  ])
}

/** Adds `strata info <db>`: engine, page size, sizes (shared and owned too), segments or pages, sequence number and named snapshots of a database, read-only. */
export function addInfoCommand(program: Command, output: Output): void {
  program
    .command('info')
    .description('show the engine (and store mode), page size, sizes (shared with clones and owned), segments or free pages, sequence number and named snapshots of a database (opens it read-only)')
    .argument('<db>', 'the database folder')
    .option('--json', 'print JSON for scripts')
    .action(async (db: string, options: { json?: true }) => {
      const info = await withDatabase(db, 'read', async (engine) => describeDatabase(db, engine.stats(), engine.listSnapshots()))
      await (options.json ? output.json(info) : output.write(render(info)))
    })
}
