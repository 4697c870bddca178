import { existsSync } from 'node:fs'
import { checkCacheSize, type Engine, type EngineStats, type Operation, type RecoveryProgress } from '@strata/btree'
import { ErrorCode, type FileSystem, MemoryFileSystem, NodeFileSystem, StrataError } from '@strata/storage'
import { type AbstractDatabaseOptions, AbstractLevel, type AbstractSublevelOptions } from 'abstract-level'
import { checkEngineName, DEFAULT_ENGINE, type EngineName, type EngineOptions, engineFor, engineOpener } from './engines.js'
import { installFastBatch } from './fast-batch.js'
import { checkRetention, type RetentionPolicy } from '@strata/snapshots'
import { type Encoded, fromEngine, toBytes } from './formats.js'
import { type PrivateIteratorOptions, RangeCursor, StrataIterator, StrataKeyIterator, StrataValueIterator } from './iterator.js'
import { registerNamedEncodings, withNamedEncodings } from './msgpack-encoding.js'
import { pinnedState, StrataSnapshot } from './snapshot.js'
import { StrataSnapshots } from './snapshots.js'
import { StrataSublevel } from './sublevel.js'
import { SnapshotViewEngine } from './view-engine.js'

/** Options of the {@link StrataLevel} constructor: abstract-level's, plus the engine and where its files live. */
export interface StrataLevelOptions<K, V> extends AbstractDatabaseOptions<K, V> {
  /**
   * The engine that keeps the data: `'row'`, redirect-on-write, or `'cow'`, copy-before-write. A
   * new database gets this one (`'row'` when omitted); an existing one opens with the engine its
   * files say, and an explicit option that names another is refused with STRATA_ENGINE_MISMATCH.
   */
  engine?: EngineName | undefined
  /** Tuning for the engine as it opens (page size of a new database, segment size, checkpoint policy). */
  engineOptions?: EngineOptions | undefined
  /**
   * Bytes of clean pages the engine keeps in memory, as classic-level's option of the name; a page
   * not held is read from the file again (docs/architecture.md §The page cache). A non-negative
   * integer, else a RangeError with code STRATA_INVALID_OPTION; default 64 MiB. Overrides
   * `engineOptions.cacheSize`.
   */
  cacheSize?: number | undefined
  /**
   * The folder to keep the database's files in, instead of `location` on disk: a
   * `MemoryFileSystem` from `@strata/storage` gives a database in memory, for tests. The location
   * then only names the database. Kept across close and reopen, so a reopen sees the same data.
   */
  fs?: FileSystem | undefined
  /** Retention for named snapshots, applied each time one is created (`db.snapshots.create`). */
  snapshots?: RetentionPolicy | undefined
}

/** Options of {@link StrataLevel.compactRange} and {@link StrataLevel.approximateSize}, as classic-level's. */
export interface RangeOptions {
  /** The encoding of `start` and `end`, instead of the database's key encoding. */
  keyEncoding?: string | object | undefined
}

/** Opens a database on an engine that is already open (a snapshot view's); not for applications. */
const kAttached = Symbol('attached engine')

/** The options abstract-level passes `_open`: its defaults filled in. */
interface PrivateOpenOptions {
  createIfMissing: boolean
  errorIfExists: boolean
}

/** The options abstract-level passes reads: formats, and the snapshot to read at. */
interface PrivateReadOptions {
  valueEncoding?: string
  snapshot?: unknown
}

/** The options writes may carry: `sync: false` trades durability on power loss for speed. */
interface PrivateWriteOptions {
  sync?: unknown
}

/** An operation as abstract-level passes `_batch`: key and value already encoded. */
interface PrivateOperation {
  type: 'put' | 'del'
  key: Encoded
  value?: Encoded
}

/** Deletes of one `clear()` go to the engine in batches of this many. */
const CLEAR_BATCH = 1000

/**
 * An embedded, snapshotting database with the abstract-level 3 interface: a drop-in for
 * `level`/`classic-level` whose snapshots are pinned roots, instant at any size.
 *
 * Besides abstract-level's events, an open that replays the log after a crash emits
 * `'recovery'` with a {@link RecoveryProgress} as the replay starts, as it goes, and when it is
 * done (`progress.done`); listen before `open()` (or before the first operation, which opens the
 * database) to show it. An open with nothing to replay emits none.
 */
export class StrataLevel<KDefault = string, VDefault = string> extends AbstractLevel<Encoded, KDefault, VDefault> {
  readonly #location: string
  /** The engine the options asked for, if they named one. */
  readonly #engineAsked: EngineName | undefined
  /** The engine of the folder, known once it is open. */
  #engineName: EngineName = DEFAULT_ENGINE
  readonly #tuning: EngineOptions
  readonly #fs: FileSystem | undefined
  readonly #attached: Engine | undefined
  readonly #retention: RetentionPolicy
  #engine: Engine | undefined
  #snapshots: StrataSnapshots<KDefault, VDefault, StrataLevel<KDefault, VDefault>> | undefined

  /**
   * A database in the folder `location` (created on open unless `createIfMissing` is false).
   * Opening starts at once; operations made before it finishes wait for it.
   */
  constructor(location: string, options?: StrataLevelOptions<KDefault, VDefault>) {
    if (typeof location !== 'string' || location === '') throw new TypeError("The first argument 'location' must be a non-empty string")
    const { engine, engineOptions, fs, snapshots, cacheSize, ...forward } = options ?? {}
    const attached = (options as { [kAttached]?: Engine } | undefined)?.[kAttached]
    const engineAsked = engine === undefined ? undefined : checkEngineName(engine)
    const retention = checkRetention(snapshots ?? {})
    const tuning = cacheSize === undefined ? (engineOptions ?? {}) : { ...engineOptions, cacheSize: checkCacheSize(cacheSize) }
    if (tuning.cacheSize !== undefined) checkCacheSize(tuning.cacheSize)
    // `getSync` is a manifest key abstract-level 3 reads (its suite tests getSync() when set)
    // that level-supports' typings do not list yet, hence the cast.
    super(
      {
        encodings: { buffer: true, view: true, utf8: true },
        implicitSnapshots: true,
        explicitSnapshots: true,
        has: true,
        getSync: true,
        seek: true,
        createIfMissing: true,
        errorIfExists: true,
        permanence: !(fs instanceof MemoryFileSystem),
        additionalMethods: { stats: true, compactRange: true, approximateSize: true },
      } as ConstructorParameters<typeof AbstractLevel>[0],
      withNamedEncodings(forward),
    )
    registerNamedEncodings(this)
    installFastBatch(this as unknown as AbstractLevel<unknown, unknown, unknown>)
    this.#location = location
    this.#engineAsked = engineAsked
    this.#tuning = tuning
    this.#fs = fs
    this.#attached = attached
    this.#retention = retention
  }

  /**
   * Named snapshots that survive restarts: create, list, read-only views, diff, restore, export
   * and delete (docs/snapshots.md).
   */
  get snapshots(): StrataSnapshots<KDefault, VDefault, StrataLevel<KDefault, VDefault>> {
    this.#snapshots ??= new StrataSnapshots<KDefault, VDefault, StrataLevel<KDefault, VDefault>>(
      {
        ready: async () => {
          if (this.status === 'opening') await this.open()
        },
        engine: () => this.#open(),
        keyEncoding: () => this.keyEncoding() as never,
        valueEncoding: () => this.valueEncoding() as never,
        view: (engine, name) => {
          const view = new SnapshotViewEngine(engine, name)
          const options = { keyEncoding: this.keyEncoding(), valueEncoding: this.valueEncoding(), [kAttached]: view }
          return new StrataLevel<KDefault, VDefault>(`${this.#location}@${name}`, options as StrataLevelOptions<KDefault, VDefault>)
        },
        openExport: (path) => {
          // The copy is a new, writable database, even of a read-only open.
          const { readOnly: _, ...tuning } = this.#tuning
          return engineOpener(this.#engineName)({ fs: new NodeFileSystem(path, { create: true }), createIfMissing: true, errorIfExists: true, tuning })
        },
      },
      this.#retention,
    )
    return this.#snapshots
  }

  /** The location the database was made with. */
  get location(): string {
    return this.#location
  }

  /**
   * The engine's accounting: bytes written and read by purpose, write amplification, file and
   * live bytes, the file bytes shared with clones by hard link and those owned alone (`sharedBytes`,
   * `ownedBytes`), pinned snapshots, checkpoints, and the page cache (`cache`: budget, clean and
   * dirty bytes held, hits, misses, evictions).
   */
  stats(): EngineStats {
    return this.#open().stats()
  }

  /**
   * Reclaims now the space that superseded data holds, as classic-level's `compactRange` does.
   * `start` and `end` are encoded with the key encoding (or `options.keyEncoding`) and checked;
   * Strata compacts the whole database, which covers the range (docs/operations.md §Compaction).
   * Resolves once done; what named snapshots hold stays.
   */
  async compactRange<K = KDefault>(start: K, end: K, options?: RangeOptions): Promise<void> {
    if (arguments.length < 2) throw new TypeError("The arguments 'start' and 'end' are required")
    if (this.status === 'opening') return this.deferAsync(() => this.compactRange(start, end, options))
    // A call made while the database closes fails, as classic-level's does.
    if (this.status !== 'open') throw new StrataError(ErrorCode.NOT_OPEN, 'Database is not open')
    this.#rangeBytes(start, end, options)
    await this.#open().compact()
  }

  /**
   * The approximate bytes of file-system space the entries in `[start..end)` use, as classic-level's
   * `approximateSize` gives: their key and value bytes, scaled by the files' bytes per live byte.
   * It reads the range's entries, so it costs a scan of the range.
   */
  async approximateSize<K = KDefault>(start: K, end: K, options?: RangeOptions): Promise<number> {
    if (arguments.length < 2) throw new TypeError("The arguments 'start' and 'end' are required")
    if (this.status === 'opening') return this.deferAsync(() => this.approximateSize(start, end, options))
    // A call made while the database closes fails, as classic-level's does.
    if (this.status !== 'open') throw new StrataError(ErrorCode.NOT_OPEN, 'Database is not open')
    const [gte, lt] = this.#rangeBytes(start, end, options)
    const engine = this.#open()
    const { fileBytes, liveBytes } = engine.stats()
    let bytes = 0
    if (Buffer.compare(gte, lt) < 0) {
      const cursor = engine.iterate({ gte, lt })
      try {
        for (let entry = cursor.next(); entry; entry = cursor.next()) bytes += entry[0].length + entry[1].length
      } finally {
        cursor.close()
      }
    }
    return liveBytes === 0 ? 0 : Math.round((bytes * fileBytes) / liveBytes)
  }

  /** `start` and `end` encoded with the key encoding (or `options.keyEncoding`), as bytes; throws if the database is not open. */
  #rangeBytes(start: unknown, end: unknown, options: RangeOptions | undefined): [Buffer, Buffer] {
    this.#open()
    const name = typeof options === 'object' && options !== null ? options.keyEncoding : undefined
    // The transcoder of any encoding encodes to one of the formats the manifest lists.
    const encoding = (name === undefined ? this.keyEncoding() : this.keyEncoding(name as never)) as { encode(data: unknown): Encoded }
    return [toBytes(encoding.encode(start)), toBytes(encoding.encode(end))]
  }

  // ── Lifecycle ────────────────────────────────────────────────────────────────

  async _open(options: PrivateOpenOptions): Promise<void> {
    if (this.#attached) {
      this.#engine = this.#attached
      return
    }
    const fs = this.#fs ?? this.#folder(options.createIfMissing && this.#tuning.readOnly !== true)
    try {
      // The folder's files say its engine; on disk they are read through a read-only handle, so
      // telling them apart needs no write access.
      const name = engineFor(this.#fs ?? new NodeFileSystem(this.#location, { readOnly: true }), this.#engineAsked)
      // An open that replays a log after a crash says how far it has come (docs/durability.md §Restart after a crash).
      const asked = this.#tuning.onRecovery
      const onRecovery = (progress: RecoveryProgress) => {
        asked?.(progress)
        this.emit('recovery', progress)
      }
      this.#engine = await engineOpener(name)({ fs, createIfMissing: options.createIfMissing, errorIfExists: options.errorIfExists, tuning: { ...this.#tuning, onRecovery } })
      this.#engineName = name
    } catch (error) {
      throw this.#explainOpenError(error)
    }
  }

  async _close(): Promise<void> {
    await this.#engine?.close()
    this.#engine = undefined
  }

  /** The database folder on disk; made when missing, unless `createIfMissing` is false or the open is read-only. */
  #folder(createIfMissing: boolean): FileSystem {
    if (existsSync(this.#location)) return new NodeFileSystem(this.#location, { readOnly: this.#tuning.readOnly === true })
    if (!createIfMissing) throw new StrataError(ErrorCode.NOT_FOUND, this.#missing())
    return new NodeFileSystem(this.#location, { create: true })
  }

  /** Why an open found no database to open, in classic-level's words. */
  #missing(): string {
    return `Database ${this.#location} does not exist (${this.#tuning.readOnly ? 'a read-only open creates nothing' : 'createIfMissing is false'})`
  }

  /** Open failures in the words classic-level uses, so callers that test messages keep working; codes stay. */
  #explainOpenError(error: unknown): unknown {
    if (!(error instanceof StrataError)) return error
    if (error.code === ErrorCode.NOT_FOUND) return new StrataError(error.code, this.#missing(), { cause: error })
    if (error.code === ErrorCode.EXISTS) return new StrataError(error.code, `Database ${this.#location} exists (errorIfExists is true)`, { cause: error })
    return error
  }

  #open(): Engine {
    if (this.#engine === undefined) throw new StrataError(ErrorCode.NOT_OPEN, 'Database is not open')
    return this.#engine
  }

  // ── Reads: synchronous on the engine, so every read is its own implicit snapshot ──

  /** A get reads the pages it lacks without blocking the event loop, where the engine can (`getSync` blocks). */
  async _get(key: Encoded, options: PrivateReadOptions): Promise<Encoded | undefined> {
    const engine = this.#open()
    if (!engine.getAsync) return this._getSync(key, options)
    const value = await engine.getAsync(toBytes(key), pinnedState(options.snapshot, engine))
    return value === undefined ? undefined : fromEngine(value, options.valueEncoding ?? 'buffer')
  }

  _getSync(key: Encoded, options: PrivateReadOptions): Encoded | undefined {
    const engine = this.#open()
    const value = engine.get(toBytes(key), pinnedState(options.snapshot, engine))
    return value === undefined ? undefined : fromEngine(value, options.valueEncoding ?? 'buffer')
  }

  async _getMany(keys: Encoded[], options: PrivateReadOptions): Promise<(Encoded | undefined)[]> {
    const engine = this.#open()
    const at = pinnedState(options.snapshot, engine)
    const format = options.valueEncoding ?? 'buffer'
    return keys.map((key) => {
      const value = engine.get(toBytes(key), at)
      return value === undefined ? undefined : fromEngine(value, format)
    })
  }

  async _has(key: Encoded, options: PrivateReadOptions): Promise<boolean> {
    const engine = this.#open()
    return engine.get(toBytes(key), pinnedState(options.snapshot, engine)) !== undefined
  }

  async _hasMany(keys: Encoded[], options: PrivateReadOptions): Promise<boolean[]> {
    const engine = this.#open()
    const at = pinnedState(options.snapshot, engine)
    return keys.map((key) => engine.get(toBytes(key), at) !== undefined)
  }

  _iterator(options: PrivateIteratorOptions): StrataIterator<this> {
    return new StrataIterator(this, this.#open(), options)
  }

  _keys(options: PrivateIteratorOptions): StrataKeyIterator<this> {
    return new StrataKeyIterator(this, this.#open(), options)
  }

  _values(options: PrivateIteratorOptions): StrataValueIterator<this> {
    return new StrataValueIterator(this, this.#open(), options)
  }

  _snapshot(options: object): StrataSnapshot {
    return new StrataSnapshot(options, this.#open())
  }

  _sublevel(name: string, options: AbstractSublevelOptions<unknown, unknown>): StrataSublevel<this, unknown, unknown> {
    return new StrataSublevel(this, name, options)
  }

  // ── Writes: each an atomic engine batch, durable on resolve unless `sync: false` ──

  async _put(key: Encoded, value: Encoded, options: PrivateWriteOptions): Promise<void> {
    await this.#open().write([{ type: 'put', key: toBytes(key), value: toBytes(value) }], { sync: options.sync !== false })
  }

  async _del(key: Encoded, options: PrivateWriteOptions): Promise<void> {
    await this.#open().write([{ type: 'del', key: toBytes(key) }], { sync: options.sync !== false })
  }

  async _batch(operations: PrivateOperation[], options: PrivateWriteOptions): Promise<void> {
    // The engine copies keys and values when `write` is called, so views of the caller's bytes do.
    const ops = operations.map((op): Operation => {
      if (op.type === 'del') return { type: 'del', key: toBytes(op.key) }
      return { type: 'put', key: toBytes(op.key), value: toBytes(op.value as Encoded) }
    })
    await this.#open().write(ops, { sync: options.sync !== false })
  }

  /**
   * Deletes the entries of a range as they were when `clear()` was called (or as an explicit
   * snapshot has them), so writes made meanwhile are untouched. Each batch of deletes is atomic;
   * a whole large clear is not, as abstract-level allows.
   */
  async _clear(options: PrivateIteratorOptions & PrivateWriteOptions): Promise<void> {
    const engine = this.#open()
    const cursor = new RangeCursor(engine, options)
    let remaining = options.limit < 0 ? Number.POSITIVE_INFINITY : options.limit
    try {
      while (remaining > 0) {
        const ops: Operation[] = []
        while (ops.length < CLEAR_BATCH && remaining > 0) {
          const entry = cursor.next()
          if (entry === undefined) remaining = 0
          else {
            ops.push({ type: 'del', key: Buffer.from(entry[0]) })
            remaining--
          }
        }
        if (ops.length > 0) await engine.write(ops, { sync: options.sync !== false })
      }
    } finally {
      cursor.close()
    }
  }
}
