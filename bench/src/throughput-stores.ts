/**
 * The stores the throughput benchmark times, behind the operations it times: point reads, single
 * puts and atomic batches (durable or not), range scans, full scans and reads at a snapshot. Strata
 * appears twice per engine: through the engine itself, and through StrataLevel, the abstract-level
 * database apps use. The concurrency and YCSB parts call the same stores one operation at a time.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Engine, EngineSnapshot, Operation } from '@strata/btree'
import { CowEngine } from '@strata/cow-engine'
import { RowEngine } from '@strata/row-engine'
import { NodeFileSystem } from '@strata/storage'
import type { AbstractLevel, AbstractSnapshot } from 'abstract-level'
import { ClassicLevel } from 'classic-level'
import { open as openLmdb } from 'lmdb'
import { MemoryLevel } from 'memory-level'
import { StrataLevel } from 'strata'
import { countEntries } from './stores.js'
import { loadBatches } from './workloads.js'

/** The name of a store in the throughput benchmark. */
export type ThroughputName = 'strata-row' | 'strata-cow' | 'StrataLevel row' | 'StrataLevel cow' | 'lmdb' | 'level' | 'memory-level'

/** Every store of the throughput benchmark, in reporting order. */
export const THROUGHPUT_STORES: readonly ThroughputName[] = ['strata-row', 'strata-cow', 'StrataLevel row', 'StrataLevel cow', 'lmdb', 'level', 'memory-level']

/** The operations timed, in reporting order. */
export const OPERATIONS = ['point read', 'durable batch', 'non-durable batch', 'range scan', 'full scan', 'snapshot read'] as const
/** One timed operation. */
export type OperationName = (typeof OPERATIONS)[number]

/** Entries one call of an operation handles on a database of `keys` keys: batches and range scans handle 1,000, a full scan every key. */
export function entriesPerCall(operation: OperationName, keys: number): number {
  if (operation === 'full scan') return keys
  return operation === 'point read' || operation === 'snapshot read' ? 1 : 1000
}

/** One open store, with at most one snapshot held at a time. */
export interface ThroughputStore {
  readonly name: ThroughputName
  /** How reads are made: `sync` (a synchronous get) or `await db.get` (abstract-level's API). */
  readonly reads: 'sync' | 'await db.get'
  get(key: Buffer): unknown
  /** One put on its own, as a request handler makes it; `durable` resolves once it survives power loss. */
  put(key: Buffer, value: Buffer, durable: boolean): Promise<void>
  write(ops: Operation[], durable: boolean): Promise<void>
  /** Reads up to `limit` entries in key order from `start`; returns how many (or a promise of it). */
  scan(start: Buffer, limit: number): number | Promise<number>
  /** Reads every entry in key order, as an app walks a whole database; returns how many. Synchronous exactly when `scan` is. */
  scanAll(): number | Promise<number>
  /** Takes the snapshot that {@link getAtSnapshot} reads. */
  takeSnapshot(): void
  getAtSnapshot(key: Buffer): unknown
  releaseSnapshot(): Promise<void>
  close(): Promise<void>
}

/** A Strata engine used directly. */
class EngineStore implements ThroughputStore {
  readonly reads = 'sync'
  #snapshot: EngineSnapshot | undefined

  constructor(
    readonly name: ThroughputName,
    readonly engine: Engine,
  ) {}

  get(key: Buffer): Buffer | undefined {
    return this.engine.get(key)
  }

  put(key: Buffer, value: Buffer, durable: boolean): Promise<void> {
    return this.engine.write([{ type: 'put', key, value }], { sync: durable })
  }

  write(ops: Operation[], durable: boolean): Promise<void> {
    return this.engine.write(ops, { sync: durable })
  }

  scan(start: Buffer, limit: number): number {
    return countEntries(this.engine.iterate({ gte: start, limit }))
  }

  scanAll(): number {
    return countEntries(this.engine.iterate())
  }

  takeSnapshot(): void {
    this.#snapshot = this.engine.snapshot()
  }

  getAtSnapshot(key: Buffer): Buffer | undefined {
    return this.engine.get(key, this.#snapshot)
  }

  async releaseSnapshot(): Promise<void> {
    this.#snapshot?.release()
  }

  close(): Promise<void> {
    return this.engine.close()
  }
}

/** Any abstract-level database (StrataLevel, classic-level, memory-level), through abstract-level's API. */
class LevelApiStore implements ThroughputStore {
  readonly reads = 'await db.get'
  #snapshot: AbstractSnapshot | undefined

  constructor(
    readonly name: ThroughputName,
    readonly db: AbstractLevel<Buffer, Buffer, Buffer>,
  ) {}

  get(key: Buffer): Promise<Buffer | undefined> {
    return this.db.get(key)
  }

  put(key: Buffer, value: Buffer, durable: boolean): Promise<void> {
    // StrataLevel and classic-level honour `sync`; abstract-level's typings do not list it.
    return this.db.put(key, value, { sync: durable } as object)
  }

  write(ops: Operation[], durable: boolean): Promise<void> {
    return this.db.batch(ops, { sync: durable } as object)
  }

  async scan(start: Buffer, limit: number): Promise<number> {
    const it = this.db.iterator({ gte: start, limit })
    const entries = await it.nextv(limit)
    await it.close()
    return entries.length
  }

  async scanAll(): Promise<number> {
    // One entry at a time, as `for await` over an iterator (and the abstract-level benchmark) reads.
    let n = 0
    for await (const _ of this.db.iterator()) n++
    return n
  }

  takeSnapshot(): void {
    this.#snapshot = this.db.snapshot()
  }

  getAtSnapshot(key: Buffer): Promise<Buffer | undefined> {
    return this.db.get(key, this.#snapshot ? { snapshot: this.#snapshot } : {})
  }

  async releaseSnapshot(): Promise<void> {
    await this.#snapshot?.close()
  }

  close(): Promise<void> {
    return this.db.close()
  }
}

/** What lmdb-js offers closest to `sync: false`, as the results and tables name it. */
export const LMDB_NOT_DURABLE = "lmdb: `await db.put()` without `db.flushed` (resolved at the commit, before lmdb-js's overlapping sync)"

/** LMDB through lmdb-js: synchronous reads, a read transaction as the snapshot. */
class LmdbStore implements ThroughputStore {
  readonly name = 'lmdb'
  readonly reads = 'sync'
  #txn: ReturnType<ReturnType<typeof openLmdb<Buffer, Buffer>>['useReadTransaction']> | undefined

  constructor(readonly db: ReturnType<typeof openLmdb<Buffer, Buffer>>) {}

  get(key: Buffer): Buffer | undefined {
    return this.db.get(key)
  }

  /**
   * `db.put` resolves when its transaction commits; with lmdb-js's default `overlappingSync` (on
   * Linux) the sync follows the commit, so a durable put also waits for `db.flushed`. A put that is
   * not durable resolves at the commit: visible, handed to the OS, not yet synced ({@link LMDB_NOT_DURABLE}).
   */
  async put(key: Buffer, value: Buffer, durable: boolean): Promise<void> {
    await this.db.put(key, value)
    if (durable) await this.db.flushed
  }

  async write(ops: Operation[], durable: boolean): Promise<void> {
    await this.db.transaction(() => {
      for (const op of ops) {
        if (op.type === 'put') this.db.put(op.key, op.value)
        else this.db.remove(op.key)
      }
    })
    if (durable) await this.db.flushed
  }

  scan(start: Buffer, limit: number): number {
    let n = 0
    for (const _ of this.db.getRange({ start, limit })) n++
    return n
  }

  scanAll(): number {
    let n = 0
    for (const _ of this.db.getRange()) n++
    return n
  }

  takeSnapshot(): void {
    this.#txn = this.db.useReadTransaction()
  }

  getAtSnapshot(key: Buffer): Buffer | undefined {
    return this.db.get(key, this.#txn ? { transaction: this.#txn } : {})
  }

  async releaseSnapshot(): Promise<void> {
    this.#txn?.done()
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}

/** Opens store `name` in a new folder `dir`. */
export async function openThroughputStore(name: ThroughputName, dir: string): Promise<ThroughputStore> {
  mkdirSync(dir, { recursive: true })
  const level = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const
  switch (name) {
    case 'strata-row':
      return new EngineStore(name, await RowEngine.open({ fs: new NodeFileSystem(dir, { create: true }) }))
    case 'strata-cow':
      return new EngineStore(name, await CowEngine.open({ fs: new NodeFileSystem(dir, { create: true }), store: 'shared' }))
    case 'StrataLevel row':
    case 'StrataLevel cow': {
      const db = new StrataLevel<Buffer, Buffer>(dir, { ...level, engine: name === 'StrataLevel row' ? 'row' : 'cow' })
      await db.open()
      return new LevelApiStore(name, db as unknown as AbstractLevel<Buffer, Buffer, Buffer>)
    }
    case 'lmdb':
      return new LmdbStore(openLmdb<Buffer, Buffer>({ path: join(dir, 'data.mdb'), keyEncoding: 'binary', encoding: 'binary', compression: false }))
    case 'level': {
      const db = new ClassicLevel<Buffer, Buffer>(dir, level)
      await db.open()
      return new LevelApiStore(name, db as unknown as AbstractLevel<Buffer, Buffer, Buffer>)
    }
    case 'memory-level': {
      const db = new MemoryLevel<Buffer, Buffer>(level)
      await db.open()
      return new LevelApiStore(name, db as unknown as AbstractLevel<Buffer, Buffer, Buffer>)
    }
  }
}

/**
 * Loads `keys` entries of 100-byte values into a new store in random key order, in batches of
 * 1,000 of which only the last is durable; returns the seconds it took.
 */
export async function loadStore(store: ThroughputStore, keys: number): Promise<number> {
  const started = process.hrtime.bigint()
  const batches = loadBatches(keys, 100)
  for (let i = 0; i < batches.length; i++) await store.write(batches[i] as Operation[], i === batches.length - 1)
  return Number(process.hrtime.bigint() - started) / 1e9
}
