import type { IoReport } from '@strata/storage'
import type { Range } from './cursor.js'

/** One operation of an atomic batch. */
export type Operation = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer }

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
  next(): [Buffer, Buffer] | undefined
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
  /** Key and value bytes of the entries in the head. */
  liveBytes: number
  /** fileBytes ÷ liveBytes. */
  spaceAmplification: number
  entries?: number
  pageSize: number
  pinnedSnapshots: number
  checkpoints: number
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
