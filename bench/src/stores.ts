import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { EngineCursor } from '@strata/btree'
import { RowEngine } from '@strata/row-engine'
import { NodeFileSystem } from '@strata/storage'
import { ClassicLevel } from 'classic-level'
import { open as openLmdb, type RootDatabase } from 'lmdb'
import { MemoryLevel } from 'memory-level'

/** One store under test, behind the few operations the engine benchmark runs. */
export interface BenchStore {
  readonly name: string
  /** Whether `get` answers synchronously. */
  readonly syncGet: boolean
  get(key: Buffer): Buffer | undefined | Promise<Buffer | undefined>
  /** One atomic batch of puts; `durable` waits until it survives power loss. */
  batch(entries: [Buffer, Buffer][], durable: boolean): Promise<void>
  /** Reads every entry in key order; returns how many. */
  scan(): number | Promise<number>
  /** Bytes of the store's files (0 in memory). */
  fileBytes(): number
  close(): Promise<void>
}

/** Bytes of every file under `dir`. */
export function folderBytes(dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size
  }
  return total
}

/** Strata's redirect-on-write engine, used directly. */
export class StrataRowStore implements BenchStore {
  readonly name = 'strata-row'
  readonly syncGet = true
  private constructor(
    readonly engine: RowEngine,
    readonly fs: NodeFileSystem,
  ) {}

  static async open(dir: string): Promise<StrataRowStore> {
    const fs = new NodeFileSystem(dir, { create: true })
    return new StrataRowStore(await RowEngine.open({ fs }), fs)
  }

  get(key: Buffer): Buffer | undefined {
    return this.engine.get(key)
  }

  batch(entries: [Buffer, Buffer][], durable: boolean): Promise<void> {
    return this.engine.write(
      entries.map(([key, value]) => ({ type: 'put', key, value })),
      { sync: durable },
    )
  }

  scan(): number {
    return countEntries(this.engine.iterate())
  }

  fileBytes(): number {
    return this.engine.stats().fileBytes
  }

  close(): Promise<void> {
    return this.engine.close()
  }
}

/** LMDB through lmdb-js, binary keys and values, default (durable) sync settings. */
export class LmdbStore implements BenchStore {
  readonly name = 'lmdb'
  readonly syncGet = true
  private constructor(
    readonly db: RootDatabase<Buffer, Buffer>,
    readonly dir: string,
  ) {}

  static open(dir: string): LmdbStore {
    mkdirSync(dir, { recursive: true })
    return new LmdbStore(openLmdb<Buffer, Buffer>({ path: join(dir, 'data.mdb'), keyEncoding: 'binary', encoding: 'binary', compression: false }), dir)
  }

  get(key: Buffer): Buffer | undefined {
    return this.db.get(key)
  }

  async batch(entries: [Buffer, Buffer][], durable: boolean): Promise<void> {
    await this.db.transaction(() => {
      for (const [key, value] of entries) this.db.put(key, value)
    })
    if (durable) await this.db.flushed
  }

  scan(): number {
    let n = 0
    for (const _ of this.db.getRange()) n++
    return n
  }

  fileBytes(): number {
    return folderBytes(this.dir)
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}

/** LevelDB through classic-level (what `level` gives on Node). */
export class LevelStore implements BenchStore {
  readonly name = 'level'
  readonly syncGet = false
  private constructor(
    readonly db: ClassicLevel<Buffer, Buffer>,
    readonly dir: string,
  ) {}

  static async open(dir: string): Promise<LevelStore> {
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await db.open()
    return new LevelStore(db, dir)
  }

  get(key: Buffer): Promise<Buffer | undefined> {
    return this.db.get(key)
  }

  batch(entries: [Buffer, Buffer][], durable: boolean): Promise<void> {
    return this.db.batch(
      entries.map(([key, value]) => ({ type: 'put' as const, key, value })),
      { sync: durable },
    )
  }

  async scan(): Promise<number> {
    const it = this.db.iterator()
    let n = 0
    for (let chunk = await it.nextv(1000); chunk.length > 0; chunk = await it.nextv(1000)) n += chunk.length
    await it.close()
    return n
  }

  fileBytes(): number {
    return folderBytes(this.dir)
  }

  close(): Promise<void> {
    return this.db.close()
  }
}

/** memory-level: the in-memory reference (no durability). */
export class MemoryStore implements BenchStore {
  readonly name = 'memory-level'
  readonly syncGet = true
  private constructor(readonly db: MemoryLevel<Buffer, Buffer>) {}

  static async open(): Promise<MemoryStore> {
    const db = new MemoryLevel<Buffer, Buffer>({ keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await db.open()
    return new MemoryStore(db)
  }

  get(key: Buffer): Buffer | undefined {
    return this.db.getSync(key)
  }

  batch(entries: [Buffer, Buffer][]): Promise<void> {
    return this.db.batch(entries.map(([key, value]) => ({ type: 'put' as const, key, value })))
  }

  async scan(): Promise<number> {
    const it = this.db.iterator()
    let n = 0
    for (let chunk = await it.nextv(1000); chunk.length > 0; chunk = await it.nextv(1000)) n += chunk.length
    await it.close()
    return n
  }

  fileBytes(): number {
    return 0
  }

  close(): Promise<void> {
    return this.db.close()
  }
}

/** Walks a cursor to its end, closes it, and returns how many entries it passed. */
export function countEntries(cursor: EngineCursor): number {
  let n = 0
  while (cursor.next()) n++
  cursor.close()
  return n
}

/** Removes a store's folder. */
export function removeFolder(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}
