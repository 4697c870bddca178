/**
 * The stores the peer comparison writes to, behind one operation (an atomic batch of puts and
 * deletes): Strata's two engines on real files, LevelDB (classic-level, what `level` gives on
 * Node), LMDB (lmdb-js) and memory-level.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Operation, SnapshotEngine } from '@strata/btree'
import { CowEngine } from '@strata/cow-engine'
import { RowEngine } from '@strata/row-engine'
import { type IoReport, NodeFileSystem } from '@strata/storage'
import { ClassicLevel } from 'classic-level'
import { open as openLmdb } from 'lmdb'
import { MemoryLevel } from 'memory-level'
import { folderBytes } from './stores.js'

/** The name of a store in the peer comparison. */
export type PeerName = 'strata-row' | 'strata-cow' | 'level' | 'lmdb' | 'memory-level'

/** Every store of the peer comparison, in reporting order. */
export const PEERS: readonly PeerName[] = ['strata-row', 'strata-cow', 'level', 'lmdb', 'memory-level']

/** One open store. */
export interface WriteStore {
  readonly name: PeerName
  /** Whether the store keeps its data in files (memory-level does not). */
  readonly onDisk: boolean
  /** Applies `ops` as one atomic batch; with `durable`, resolves once it survives power loss. */
  write(ops: Operation[], durable: boolean): Promise<void>
  /** Strata's own I/O counters (undefined for the peers, which have none we can read). */
  io(): IoReport | undefined
  /** Zeroes Strata's own counters (a no-op for the peers). */
  resetIo(): void
  /** Bytes of the store's files. */
  fileBytes(): number
  close(): Promise<void>
}

/** A Strata engine on real files. */
class StrataStore implements WriteStore {
  readonly onDisk = true

  constructor(
    readonly name: PeerName,
    readonly engine: SnapshotEngine,
    readonly fs: NodeFileSystem,
    readonly dir: string,
  ) {}

  write(ops: Operation[], durable: boolean): Promise<void> {
    return this.engine.write(ops, { sync: durable })
  }

  io(): IoReport {
    return this.fs.io.report()
  }

  resetIo(): void {
    this.fs.io.reset()
  }

  fileBytes(): number {
    return folderBytes(this.dir)
  }

  close(): Promise<void> {
    return this.engine.close()
  }
}

/** LevelDB through classic-level. */
class LevelStore implements WriteStore {
  readonly name = 'level'
  readonly onDisk = true

  constructor(
    readonly db: ClassicLevel<Buffer, Buffer>,
    readonly dir: string,
  ) {}

  write(ops: Operation[], durable: boolean): Promise<void> {
    return this.db.batch(ops, { sync: durable })
  }

  io(): undefined {
    return undefined
  }

  resetIo(): void {}

  fileBytes(): number {
    return folderBytes(this.dir)
  }

  close(): Promise<void> {
    return this.db.close()
  }
}

/** LMDB through lmdb-js, binary keys and values, its default (durable) settings. */
class LmdbStore implements WriteStore {
  readonly name = 'lmdb'
  readonly onDisk = true

  constructor(
    readonly db: ReturnType<typeof openLmdb<Buffer, Buffer>>,
    readonly dir: string,
  ) {}

  async write(ops: Operation[], durable: boolean): Promise<void> {
    await this.db.transaction(() => {
      for (const op of ops) {
        if (op.type === 'put') this.db.put(op.key, op.value)
        else this.db.remove(op.key)
      }
    })
    if (durable) await this.db.flushed
  }

  io(): undefined {
    return undefined
  }

  resetIo(): void {}

  fileBytes(): number {
    return folderBytes(this.dir)
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}

/** memory-level: the in-memory reference; it writes nothing to disk. */
class MemoryStore implements WriteStore {
  readonly name = 'memory-level'
  readonly onDisk = false

  constructor(readonly db: MemoryLevel<Buffer, Buffer>) {}

  write(ops: Operation[]): Promise<void> {
    return this.db.batch(ops)
  }

  io(): undefined {
    return undefined
  }

  resetIo(): void {}

  fileBytes(): number {
    return 0
  }

  close(): Promise<void> {
    return this.db.close()
  }
}

/** The Strata engine behind `store`, or undefined for a peer. */
export function strataEngine(store: WriteStore): SnapshotEngine | undefined {
  return store instanceof StrataStore ? store.engine : undefined
}

/** Opens store `name` in a new folder `dir`. */
export async function openPeer(name: PeerName, dir: string): Promise<WriteStore> {
  mkdirSync(dir, { recursive: true })
  switch (name) {
    case 'strata-row': {
      const fs = new NodeFileSystem(dir, { create: true })
      return new StrataStore(name, await RowEngine.open({ fs }), fs, dir)
    }
    case 'strata-cow': {
      const fs = new NodeFileSystem(dir, { create: true })
      return new StrataStore(name, await CowEngine.open({ fs, store: 'shared' }), fs, dir)
    }
    case 'level': {
      const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
      await db.open()
      return new LevelStore(db, dir)
    }
    case 'lmdb':
      return new LmdbStore(openLmdb<Buffer, Buffer>({ path: join(dir, 'data.mdb'), keyEncoding: 'binary', encoding: 'binary', compression: false }), dir)
    case 'memory-level': {
      const db = new MemoryLevel<Buffer, Buffer>({ keyEncoding: 'buffer', valueEncoding: 'buffer' })
      await db.open()
      return new MemoryStore(db)
    }
  }
}
