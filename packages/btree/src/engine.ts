import type { FileSystem, IoReport } from '@strata/storage'
import type { Range } from './cursor.js'
import type { Change, DiffCost } from './diff.js'
import type { CacheStats } from './page-cache.js'

/** One operation of an atomic batch. */
export type Operation = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer }

/**
 * A copy of a batch's keys and values in one buffer, for an engine to take when `write` is
 * called: the batch may wait in the queue behind earlier ones, and its caller may reuse its
 * buffers as soon as `write` returns.
 */
export function copyOperations(ops: readonly Operation[]): Operation[] {
  let bytes = 0
  for (const op of ops) bytes += op.key.length + (op.type === 'put' ? op.value.length : 0)
  const buf = Buffer.allocUnsafe(bytes)
  let at = 0
  const copy = (data: Buffer): Buffer => {
    buf.set(data, at)
    at += data.length
    return buf.subarray(at - data.length, at)
  }
  return ops.map((op) => (op.type === 'put' ? { type: 'put', key: copy(op.key), value: copy(op.value) } : { type: 'del', key: copy(op.key) }))
}

/**
 * How far an open's replay of the log has come (docs/architecture.md §Replay): an engine that
 * finds a log to replay reports it as it starts, after each run of batches, and when it is done.
 */
export interface RecoveryProgress {
  /** Bytes of log after the checkpoint, at most what the replay reads (its tail may prove torn). */
  logBytes: number
  /** Bytes of log replayed so far. */
  replayedBytes: number
  /** Batches replayed so far. */
  batches: number
  /** Milliseconds since the replay began. */
  elapsedMs: number
  /** Whether the replay is over (the last report). */
  done: boolean
}

/** Options of `Engine.write`. */
export interface WriteOptions {
  /** Wait until the batch is durable (survives power loss) before resolving. Default true. */
  sync?: boolean
}

/** A pinned, read-only, point-in-time state of an engine. */
export interface EngineSnapshot {
  /** The sequence number of the last batch the snapshot sees. */
  readonly seq: number
  readonly released: boolean
  /** Unpins the state; its space may then be reclaimed. Idempotent. */
  release(): void
}

/** A positioned walk over entries in key order. Keys and values it returns belong to the engine. */
export interface EngineCursor {
  /** The next entry, or undefined at the end. Key and value belong to the engine: not to be changed. */
  next(): [Buffer, Buffer] | undefined
  /**
   * Up to `size` next entries (fewer at the end), each key and value a copy the caller owns. Copies
   * many entries for about the cost of copying each one's bytes.
   */
  nextCopies(size: number): [Buffer, Buffer][]
  /** Moves to the first key ≥ target (≤ in reverse) inside the cursor's range. */
  seek(target: Uint8Array): void
  /** Releases what the cursor pins. Idempotent. */
  close(): void
}

/** What an engine reports about itself. */
export interface EngineStats {
  engine: string
  /** Sequence number of the last committed batch. */
  seq: number
  io: IoReport
  /** Bytes of every file of the database. */
  fileBytes: number
  /**
   * Bytes of fileBytes in files with more than one name: hard links that other databases hold too
   * (the sealed segments a clone shares with its source, and with other clones). Deleting this
   * database frees none of them while another names them. A reflinked copy has one name, so it
   * counts as owned, though the file system may still share its blocks with the original.
   */
  sharedBytes: number
  /** fileBytes − sharedBytes: bytes of files this database alone names, what deleting it frees (less blocks a reflink shares). */
  ownedBytes: number
  /** Key and value bytes of the entries in the head. */
  liveBytes: number
  /** fileBytes ÷ liveBytes. */
  spaceAmplification: number
  entries?: number
  pageSize: number
  pinnedSnapshots: number
  checkpoints: number
  /** The page cache: its budget, the clean and dirty bytes held, hits, misses and evictions. */
  cache: CacheStats
  [more: string]: unknown
}

/**
 * The contract both page stores fulfil (docs/architecture.md §Engine contract). Reads are
 * synchronous; a write is an atomic batch that, with `sync` (the default), survives power loss once
 * it resolves, and is visible to readers only then.
 */
export interface Engine {
  readonly seq: number
  get(key: Uint8Array, at?: EngineSnapshot): Buffer | undefined
  /**
   * {@link get}, as of the call, reading the pages it needs without blocking the event loop. An
   * engine without it is read with `get`.
   */
  getAsync?(key: Uint8Array, at?: EngineSnapshot): Promise<Buffer | undefined>
  iterate(range?: Range, at?: EngineSnapshot): EngineCursor
  write(ops: Operation[], options?: WriteOptions): Promise<void>
  /** Pins the committed state in O(1). */
  snapshot(): EngineSnapshot
  stats(): EngineStats
  /** Walks every structure and checksum; returns the broken invariants (empty when sound). */
  check(): string[]
  /** Reclaims space held by superseded pages now, as far as pinned snapshots allow. */
  compact(): Promise<void>
  close(): Promise<void>
}

/** A named snapshot as the engine lists it. */
export interface NamedSnapshotInfo {
  name: string
  /** The sequence number of the last batch the snapshot sees. */
  seq: number
  /** Milliseconds since the epoch. */
  createdAt: number
  /** The caller's metadata, as given to `createSnapshot`. */
  meta: Buffer
  /**
   * Bytes on storage that only this snapshot keeps: what deleting it alone frees, at once, or (where
   * the head still uses pages beside them) at the next cleaning, which moves those pages. 0 when
   * another named snapshot names the same state.
   */
  exclusiveBytes: number
}

/**
 * Durable named snapshots (docs/snapshots.md): created, deleted and restored as atomic, durable
 * commits; they survive close, crash and reopen.
 */
export interface NamedSnapshots {
  /** Names the current committed state; durable when it resolves. */
  createSnapshot(name: string, meta?: Buffer): Promise<NamedSnapshotInfo>
  listSnapshots(): NamedSnapshotInfo[]
  /** A pinned handle on a named snapshot's state, for reads; release it when done. */
  openSnapshot(name: string): EngineSnapshot
  deleteSnapshot(name: string): Promise<void>
  /** Makes the head the named snapshot's state, as one atomic, durable commit. */
  restoreSnapshot(name: string): Promise<void>
  /**
   * The changes from state `from` to state `to` (undefined: the head as the walk starts), in key
   * order. Both states are held from the first step until the walk ends or is abandoned (`return()`).
   */
  diff(from: EngineSnapshot | undefined, to: EngineSnapshot | undefined, cost?: DiffCost): Iterable<Change>
}

/** An engine with durable named snapshots. */
export type SnapshotEngine = Engine & NamedSnapshots

/** Options of {@link Clones.clone}. */
export interface CloneOptions {
  /** Keep the source's named snapshots in the clone (of the head only). Default false: the clone has none. */
  snapshots?: boolean
  /** Share files by hard link where the folders are on one file system. Default true; false copies every file. */
  link?: boolean
}

/** What a clone did: the files it shares with its source, those it copied, and every byte it wrote. */
export interface CloneResult {
  linkedFiles: number
  copiedFiles: number
  bytesWritten: number
}

/** An engine that makes writable clones of its states (docs/snapshots.md §Clones). */
export interface Clones {
  /**
   * Makes a new, independent database in the empty folder `target` whose state is named snapshot
   * `name`'s, or the head's if `name` is undefined; durable when it resolves. The folder holds a
   * database only once it resolves: a caller that may crash builds it under a temporary name.
   */
  clone(name: string | undefined, target: FileSystem, options?: CloneOptions): Promise<CloneResult>
}
