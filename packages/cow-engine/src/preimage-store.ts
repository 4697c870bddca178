import { corruption, crc32, type FileSystem } from '@strata/storage'
import type { EpochRange } from './page-table.js'
import type { CowSnapshot } from './snapshots.js'

/**
 * How pre-images are kept: `per-snapshot` gives every live snapshot its own store file and its own
 * copy of every page it needs (classic LVM snapshots: a write costs more with every snapshot);
 * `shared` keeps one copy of each page version in one file, serving every snapshot that needs it.
 */
export type StoreMode = 'per-snapshot' | 'shared'

/** Where snapshots keep the old content of pages (and WAL values) overwritten after they were taken. */
export interface PreimageStore {
  readonly mode: StoreMode
  /**
   * Saves `slot`, what `page` held during epochs `range`, for each of `snapshots` that has no copy
   * of it yet. Written at once, durable after `sync`; readable through `readPage` at once.
   */
  savePage(page: number, range: EpochRange, slot: Buffer, snapshots: readonly CowSnapshot[]): void
  /** Saves the value of the WAL VALUE record at `lsn`, which the WAL is about to drop, for `snapshots`. */
  saveValue(lsn: number, value: Buffer, snapshots: readonly CowSnapshot[]): void
  /** Resolves once every save so far is durable. */
  sync(): Promise<void>
  /** The copy of `page` that `snapshot` reads, or undefined if it has none (pages.db still holds its version). */
  readPage(snapshot: CowSnapshot, page: number): Buffer | undefined
  /** The saved value of the VALUE record at `lsn` for `snapshot`, or undefined. */
  readValue(snapshot: CowSnapshot, lsn: number): Buffer | undefined
  /** Drops what only `snapshot` needed: per-snapshot, its file; shared, the copies no live snapshot holds. */
  release(snapshot: CowSnapshot): void
  /** Bytes of the store's files. */
  bytes(): number
  /** Bytes of the copies `snapshot` holds. */
  bytesOf(snapshot: CowSnapshot): number
  /** The store's broken invariants given the live snapshots (empty when sound). */
  check(live: readonly CowSnapshot[]): string[]
  /** Closes and removes every store file. */
  close(): void
}

/** Names of pre-image store files: pre-images live only as long as the engine's snapshots. */
export const STORE_FILE_PATTERN = /^(snap-\d+\.pre|preimages\.db)$/

/** Removes the store files a crash or an earlier session left: no snapshot outlives its engine. */
export function removeStoreFiles(fs: FileSystem): void {
  for (const name of fs.list()) if (STORE_FILE_PATTERN.test(name)) fs.remove(name)
}

/** Bytes of a saved value with its 8-byte header (CRC-32 of bytes [4, 8 + length), then u32 length). */
export function savedValueBytes(length: number): number {
  return 8 + length
}

/** Frames a value for a store file. */
export function encodeSavedValue(value: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(savedValueBytes(value.length))
  buf.writeUInt32LE(value.length, 4)
  buf.set(value, 8)
  buf.writeUInt32LE(crc32(buf.subarray(4)), 0)
  return buf
}

/** Verifies a framed value read back from a store file and returns the value (a view). */
export function decodeSavedValue(buf: Buffer, file: string, offset: number): Buffer {
  if (buf.length < 8) throw corruption(file, offset, 'truncated saved value')
  const length = buf.readUInt32LE(4)
  if (8 + length > buf.length || crc32(buf.subarray(4, 8 + length)) !== buf.readUInt32LE(0)) throw corruption(file, offset, 'saved value checksum mismatch')
  return buf.subarray(8, 8 + length)
}
