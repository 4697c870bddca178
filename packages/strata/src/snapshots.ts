import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { CloneOptions, CloneResult, Engine, SnapshotEngine } from '@strata/btree'
import { type ExportResult, HEAD, type RetentionPolicy, type SnapshotInfo, SnapshotManager } from '@strata/snapshots'
import { ErrorCode, StrataError } from '@strata/storage'
import { fromEngine } from './formats.js'

/** One key whose value differs between two states, decoded with the database's encodings. */
export interface SnapshotChange<K, V> {
  key: K
  /** The value in the first state, or undefined where the key is absent. */
  before: V | undefined
  /** The value in the second state, or undefined where the key is absent. */
  after: V | undefined
}

/** An abstract-level encoding as `db.keyEncoding()` returns it. */
interface Codec<T> {
  format: string
  decode(data: unknown): T
}

/** What the snapshot API needs from the database it belongs to. */
export interface SnapshotHost<K, V> {
  /** Resolves once the database has finished opening (if it is opening). */
  ready(): Promise<void>
  engine(): Engine
  keyEncoding(): Codec<K>
  valueEncoding(): Codec<V>
  /** A read-only database at snapshot `name`, with the host's encodings. */
  view(engine: SnapshotEngine, name: string): unknown
  /** Opens a new, empty database of the host's engine at `path`, for an export. */
  openExport(path: string): Promise<Engine>
}

/**
 * `db.snapshots`: named snapshots that survive restarts, read-only views, diff, restore, export
 * and retention (docs/snapshots.md). Keys and values are in the database's encodings.
 */
export class StrataSnapshots<K, V, View> {
  readonly #host: SnapshotHost<K, V>
  readonly #retention: RetentionPolicy
  #manager: SnapshotManager | undefined
  #engine: Engine | undefined

  constructor(host: SnapshotHost<K, V>, retention: RetentionPolicy) {
    this.#host = host
    this.#retention = retention
  }

  /** Names the current state; durable when it resolves. Costs the same at any database size on the ROW engine. */
  async create(name: string, options: { meta?: unknown } = {}): Promise<SnapshotInfo> {
    await this.#host.ready()
    return this.#manager$().create(name, options)
  }

  /** The named snapshots, oldest first, with the bytes only each keeps. */
  list(): SnapshotInfo[] {
    return this.#manager$().list()
  }

  /** A read-only database at snapshot `name`: reads, iterators, sublevels and streams work; writes reject with LEVEL_READONLY. */
  view(name: string): View {
    this.#manager$()
    return this.#host.view(this.#snapshotEngine(), name) as View
  }

  /** The changes from `from` to `to` (snapshot names, or `'head'`), in key order. */
  async *diff(from: string, to: string = HEAD): AsyncGenerator<SnapshotChange<K, V>> {
    const keys = this.#host.keyEncoding()
    const values = this.#host.valueEncoding()
    const value = (bytes: Buffer | undefined) => (bytes === undefined ? undefined : values.decode(fromEngine(bytes, values.format)))
    await this.#host.ready()
    for await (const change of this.#manager$().diff(from, to)) {
      yield { key: keys.decode(fromEngine(change.key, keys.format)), before: value(change.before), after: value(change.after) }
    }
  }

  /** Makes the head snapshot `name`'s state, as one atomic, durable commit. */
  async restore(name: string): Promise<void> {
    await this.#host.ready()
    return this.#manager$().restore(name)
  }

  /**
   * Copies snapshot `name` into a new database at `path`, consistent while writes go on. An
   * export that fails removes what it wrote: the folder, if it made it, else the files it added.
   */
  async export(name: string, path: string): Promise<ExportResult> {
    await this.#host.ready()
    const before = folderEntries(path)
    try {
      return await this.#manager$().export(name, path, (target) => this.#host.openExport(target))
    } catch (error) {
      removeExportLeftovers(path, before)
      throw error
    }
  }

  /**
   * Makes a new, writable database at `path` (missing, or an empty folder) whose state is snapshot
   * `name`'s (or the head's, for `'head'`), durable when it resolves; `new StrataLevel(path)` opens
   * it. On the ROW engine it shares the source's sealed log segments by hard link (copied across
   * file systems, or with `link: false`), so it takes about as long at any size; on the COW engine
   * it copies every file (a reflink where the file system can), so it grows with the database. The
   * clone has no named snapshots unless `snapshots: true`.
   */
  async clone(name: string, path: string, options: CloneOptions = {}): Promise<CloneResult> {
    await this.#host.ready()
    return this.#manager$().clone(name, path, options)
  }

  async delete(name: string): Promise<void> {
    await this.#host.ready()
    return this.#manager$().delete(name)
  }

  #snapshotEngine(): SnapshotEngine {
    const engine = this.#host.engine()
    if (!('createSnapshot' in engine)) throw new StrataError(ErrorCode.NOT_SUPPORTED, 'this engine keeps no named snapshots')
    return engine as SnapshotEngine
  }

  #manager$(): SnapshotManager {
    const engine = this.#snapshotEngine()
    if (this.#manager === undefined || this.#engine !== engine) {
      this.#manager = new SnapshotManager(engine, this.#retention)
      this.#engine = engine
    }
    return this.#manager
  }
}

/** The entries of the folder at `path` before an export writes there: `'missing'` if there is none, `'other'` if it is not a folder. */
function folderEntries(path: string): Set<string> | 'missing' | 'other' {
  try {
    return new Set(readdirSync(path))
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'other'
  }
}

/** Removes what a failed export left at `path`, given what was there before it; never what was. */
function removeExportLeftovers(path: string, before: Set<string> | 'missing' | 'other'): void {
  if (before === 'other') return
  try {
    if (before === 'missing') rmSync(path, { recursive: true, force: true })
    else for (const entry of readdirSync(path)) if (!before.has(entry)) rmSync(join(path, entry), { recursive: true, force: true })
  } catch {
    // The export's own error is the one to report; leftovers are only untidy.
  }
}
