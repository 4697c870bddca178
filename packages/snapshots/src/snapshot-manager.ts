import type { Change, CloneOptions, CloneResult, Clones, DiffCost, Engine, EngineSnapshot, NamedSnapshotInfo, SnapshotEngine } from '@strata/btree'
import { ErrorCode, StrataError } from '@strata/storage'
import { cloneIntoFolder } from './clone-folder.js'

/** How many snapshots to keep, applied each time one is created. */
export interface RetentionPolicy {
  /** Keep at most this many named snapshots: the oldest go first. */
  keepLast?: number
  /** Delete snapshots older than this many milliseconds. */
  maxAge?: number
}

/** A named snapshot as the manager lists it. */
export interface SnapshotInfo {
  name: string
  /** The sequence number of the last commit the snapshot sees. */
  seq: number
  createdAt: Date
  /** The metadata given at creation (JSON), or undefined. */
  meta: unknown
  /** Bytes on storage only this snapshot keeps: what deleting it would free. */
  exclusiveBytes: number
}

/** What `export` wrote. */
export interface ExportResult {
  entries: number
  /** Key and value bytes copied. */
  bytes: number
}

/** Opens a new, empty database at `path` to export into; the manager closes it. */
export type ExportTarget = (path: string) => Promise<Engine>

/** The head, for `diff`. */
export const HEAD = 'head'

const EXPORT_BATCH = 1000

function toInfo(info: NamedSnapshotInfo): SnapshotInfo {
  const text = info.meta.toString('utf8')
  return { name: info.name, seq: info.seq, createdAt: new Date(info.createdAt), meta: text === '' ? undefined : JSON.parse(text), exclusiveBytes: info.exclusiveBytes }
}

/** The fields a {@link RetentionPolicy} has. */
const RETENTION_FIELDS = new Set(['keepLast', 'maxAge'])

/**
 * `policy`, checked: an object whose fields are `keepLast` (a non-negative integer) and `maxAge`
 * (a non-negative number of milliseconds), each optional. Anything else is the caller's mistake:
 * a TypeError for a wrong type or an unknown field, a RangeError for a value out of range.
 */
export function checkRetention(policy: unknown): RetentionPolicy {
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) throw new TypeError('a retention policy must be an object: { keepLast?, maxAge? }')
  for (const [name, value] of Object.entries(policy)) {
    if (!RETENTION_FIELDS.has(name)) throw new TypeError(`a retention policy has no field ${JSON.stringify(name)}: it takes keepLast and maxAge`)
    if (value === undefined) continue
    if (typeof value !== 'number') throw new TypeError(`retention ${name} must be a number, received ${typeof value}`)
    if (!(value >= 0) || (name === 'keepLast' && !Number.isInteger(value))) throw new RangeError(`retention ${name} must be a non-negative ${name === 'keepLast' ? 'integer' : 'number'}`)
  }
  return policy as RetentionPolicy
}

/**
 * Named durable snapshots over an engine (docs/snapshots.md): create with metadata and a retention
 * policy, list, delete, restore, diff and export. The engine does the durable work; the manager
 * adds what is the same on every engine.
 */
export class SnapshotManager {
  readonly #engine: SnapshotEngine
  readonly #retention: RetentionPolicy

  constructor(engine: SnapshotEngine, retention: RetentionPolicy = {}) {
    this.#engine = engine
    this.#retention = checkRetention(retention)
  }

  /**
   * Names the current committed state; durable when it resolves. `meta` is kept as JSON. The
   * retention policy then deletes what it no longer keeps (never the snapshot just made).
   */
  async create(name: string, options: { meta?: unknown } = {}): Promise<SnapshotInfo> {
    const meta = options.meta === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(options.meta), 'utf8')
    const info = toInfo(await this.#engine.createSnapshot(name, meta))
    await this.#applyRetention(name)
    return this.#engine.listSnapshots().map(toInfo).find((s) => s.name === name) ?? info
  }

  /** The named snapshots, oldest first. */
  list(): SnapshotInfo[] {
    return this.#engine
      .listSnapshots()
      .map(toInfo)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.seq - b.seq || (a.name < b.name ? -1 : 1))
  }

  /** A pinned handle on a snapshot's state; release it when done. */
  open(name: string): EngineSnapshot {
    return this.#engine.openSnapshot(name)
  }

  delete(name: string): Promise<void> {
    return this.#engine.deleteSnapshot(name)
  }

  /** Makes the head the snapshot's state, as one atomic, durable commit. */
  restore(name: string): Promise<void> {
    return this.#engine.restoreSnapshot(name)
  }

  /**
   * The changes from `from` to `to` (snapshot names, or {@link HEAD}), in key order. Both states
   * are pinned until the iteration ends. Keys and values are the engine's bytes.
   */
  async *diff(from: string, to: string = HEAD, cost?: DiffCost): AsyncGenerator<Change> {
    const a = from === HEAD ? this.#engine.snapshot() : this.open(from)
    let b: EngineSnapshot
    try {
      b = to === HEAD ? this.#engine.snapshot() : this.open(to)
    } catch (error) {
      a.release()
      throw error
    }
    try {
      let n = 0
      for (const change of this.#engine.diff(a, b, cost)) {
        yield change
        // Let other work run during a long diff.
        if (++n % 1000 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
    } finally {
      a.release()
      b.release()
    }
  }

  /**
   * Copies the snapshot's state into a new database at `path`: consistent (the snapshot is
   * pinned throughout, so writes may go on) and compact (written fresh, in key order).
   */
  async export(name: string, path: string, open: ExportTarget): Promise<ExportResult> {
    const at = this.open(name)
    const result: ExportResult = { entries: 0, bytes: 0 }
    let target: Engine | undefined
    const cursor = this.#engine.iterate({}, at)
    try {
      target = await open(path)
      const into = target
      let batch: { type: 'put'; key: Buffer; value: Buffer }[] = []
      const flush = async (sync: boolean) => {
        if (batch.length === 0) return
        await into.write(batch, { sync })
        result.entries += batch.length
        batch = []
      }
      for (let e = cursor.next(); e; e = cursor.next()) {
        batch.push({ type: 'put', key: e[0], value: e[1] })
        result.bytes += e[0].length + e[1].length
        if (batch.length === EXPORT_BATCH) {
          await flush(false)
          await new Promise((resolve) => setImmediate(resolve))
        }
      }
      // The copy is durable once its last batch is; compaction leaves only its pages.
      await flush(true)
      await into.compact()
    } finally {
      cursor.close()
      at.release()
      await target?.close()
    }
    return result
  }

  /**
   * Makes a new, writable database at `path` (missing, or an empty folder) at snapshot `name`'s
   * state (or the head's, for {@link HEAD}), durable when it resolves, built beside `path` and
   * renamed into place. LEVEL_NOT_SUPPORTED where the engine makes no clones.
   */
  clone(name: string, path: string, options: CloneOptions = {}): Promise<CloneResult> {
    if (!('clone' in this.#engine)) {
      return Promise.reject(new StrataError(ErrorCode.NOT_SUPPORTED, 'this engine makes no clones (the redirect-on-write engine does); export the snapshot instead'))
    }
    const engine = this.#engine as SnapshotEngine & Clones
    return cloneIntoFolder(path, (target) => engine.clone(name === HEAD ? undefined : name, target, options))
  }

  async #applyRetention(keep: string): Promise<void> {
    const { keepLast, maxAge } = this.#retention
    if (keepLast === undefined && maxAge === undefined) return
    const all = this.list()
    const now = Date.now()
    const doomed = new Set<string>()
    if (maxAge !== undefined) for (const s of all) if (now - s.createdAt.getTime() > maxAge) doomed.add(s.name)
    if (keepLast !== undefined) for (const s of all.slice(0, Math.max(0, all.length - Math.max(keepLast, 1)))) doomed.add(s.name)
    doomed.delete(keep)
    for (const name of doomed) await this.#engine.deleteSnapshot(name)
  }
}
