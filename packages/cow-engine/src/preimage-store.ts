import { type BlockFile, corruption, crc32, type FileSystem } from '@strata/storage'
import type { CopyEntry } from './catalogue.js'
import type { CowSnapshot } from './snapshots.js'

/**
 * How pre-images are kept: `per-snapshot` gives every live snapshot its own store file and its own
 * copy of every page it needs (classic LVM snapshots: a write costs more with every snapshot);
 * `shared` keeps one copy of each page version in one file, serving every snapshot that needs it.
 */
export type StoreMode = 'per-snapshot' | 'shared'

/** A copy a store made for one snapshot. */
export interface SavedCopy {
  snapshot: CowSnapshot
  entry: CopyEntry
}

/**
 * Where snapshots keep the old content of pages (and WAL values) overwritten after they were taken.
 * The copies of named snapshots outlive the engine: their places are in each snapshot's copy list
 * in the catalogue, and the store takes them back at open with `adopt`.
 */
export interface PreimageStore {
  readonly mode: StoreMode
  /**
   * Copies `slot`, the whole page `page` as pages.db holds it now, for each of `snapshots` that
   * holds no copy of `page` yet. Written at once, durable after `sync`; readable at once. Returns
   * the copy each of those snapshots got.
   */
  savePage(page: number, slot: Buffer, snapshots: readonly CowSnapshot[]): SavedCopy[]
  /** Saves the value of the WAL VALUE record at `lsn`, which the WAL is about to drop, for `snapshots`. */
  saveValue(lsn: number, value: Buffer, snapshots: readonly CowSnapshot[]): void
  /** Resolves once every save so far is durable. */
  sync(): Promise<void>
  /** Whether `snapshot` holds a copy of `page`. */
  has(snapshot: CowSnapshot, page: number): boolean
  /** The copy of `page` that `snapshot` reads, or undefined if it has none (pages.db still holds its version). */
  readPage(snapshot: CowSnapshot, page: number): Buffer | undefined
  /** A token naming the copy of `page` that `snapshot` reads (equal tokens: one copy), or undefined if it has none. */
  versionOf(snapshot: CowSnapshot, page: number): unknown
  /** The saved value of the VALUE record at `lsn` for `snapshot`, or undefined. */
  readValue(snapshot: CowSnapshot, lsn: number): Buffer | undefined
  /** Drops what only `snapshot` needed: per-snapshot, its file; shared, the copies no live snapshot holds. */
  release(snapshot: CowSnapshot): void
  /** Takes back, at open, the copies a named snapshot's copy list records. */
  adopt(snapshot: CowSnapshot, entries: Iterable<CopyEntry>): void
  /** After every adopt: cuts off the store's bytes that no adopted copy uses (copies of a checkpoint cut short). */
  settle(): void
  /**
   * Recovery, before a checkpoint is redone: makes sure each copy in `entries` (of the snapshot
   * numbered `id`) is whole, copying the page again from `readOld` (pages.db, not yet overwritten)
   * when it is not, and durable after the next `sync`. LEVEL_CORRUPTION if the old page no longer
   * matches the copy's checksum.
   */
  repair(id: number, entries: readonly CopyEntry[], readOld: (page: number) => Buffer): void
  /** Bytes of the store's files. */
  bytes(): number
  /** Bytes of the store's files that have more than one name (hard links). */
  sharedBytes(): number
  /** Bytes of the copies `snapshot` holds. */
  bytesOf(snapshot: CowSnapshot): number
  /** Bytes of the copies only `snapshot` holds: what releasing it alone frees. */
  exclusiveBytes(snapshot: CowSnapshot): number
  /** The store's broken invariants given the live snapshots (empty when sound). */
  check(live: readonly CowSnapshot[]): string[]
  /** Closes the store; the files and copies of snapshots whose id `keep` refuses (those that end with the engine) are removed. */
  close(keep: (id: number) => boolean): void
}

/** Names of pre-image store files. */
export const STORE_FILE_PATTERN = /^(snap-(\d+)\.pre|preimages\.db)$/

/** The file of a per-snapshot store. */
export function snapshotFileName(id: number): string {
  return `snap-${id}.pre`
}

/**
 * Removes the store files a crash or an earlier session left that no named snapshot uses: every
 * `snap-N.pre` whose N is not in `named`, and preimages.db unless `keepShared`.
 */
export function removeStoreFiles(fs: FileSystem, named: ReadonlySet<number> = new Set(), keepShared = false): void {
  for (const name of fs.list()) {
    const match = STORE_FILE_PATTERN.exec(name)
    if (!match) continue
    const id = match[2]
    if (id === undefined ? !keepShared : !named.has(Number(id))) fs.remove(name)
  }
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

/** Removes a store file no snapshot needs any more; if the file system refuses, the next open removes it. */
export function removeQuietly(fs: FileSystem, name: string): void {
  try {
    fs.remove(name)
  } catch {
    // Left for the next open, which removes every store file no named snapshot lists.
  }
}

/** CRC-32 of a whole copied page, as a copy list records it. */
export function copyChecksum(slot: Buffer): number {
  return crc32(slot)
}

/**
 * Makes sure the copy `entry` in `file` is whole (its CRC-32 holds), writing the page again from
 * `readOld` when it is not. Returns whether it wrote. LEVEL_CORRUPTION if the old page does not
 * match the checksum either: then neither place holds the snapshot's version.
 */
export function repairCopy(file: BlockFile, entry: CopyEntry, pageSize: number, readOld: (page: number) => Buffer, location: string): boolean {
  const at = entry.slot * pageSize
  const copy = file.read(at, pageSize, 'preimage')
  if (copy.length === pageSize && crc32(copy) === entry.crc) return false
  const old = readOld(entry.page)
  if (old.length !== pageSize || crc32(old) !== entry.crc) throw corruption(location, at, `the copy of page ${entry.page} is damaged, and pages.db no longer holds it`)
  file.write(at, old, 'preimage')
  return true
}
