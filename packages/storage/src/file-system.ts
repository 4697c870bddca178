import type { IoStats, Purpose } from './io-stats.js'

/**
 * One file of a database, addressed by byte offset. Reads and writes are synchronous (they reach
 * the OS page cache, as LMDB's and SQLite's do); only `sync`, which waits for the disk, is
 * asynchronous. Every byte moved is counted in the file system's {@link IoStats} by purpose.
 */
export interface BlockFile {
  readonly name: string
  /** Current length in bytes. */
  size(): number
  /**
   * How many names the file has, in this folder and others: 1 for a file of its folder alone, more
   * where hard links name it elsewhere too (the sealed segments a clone shares with its source),
   * 0 once its name here is removed. A copy, reflinked or not, is a file of its own with one name,
   * though a reflink's blocks may still be shared on disk.
   */
  links(): number
  /** Reads up to `length` bytes at `offset`; fewer at the end of the file. The caller owns the result. */
  read(offset: number, length: number, purpose: Purpose): Buffer
  /**
   * Reads up to `target.length` bytes at `offset` into `target`; returns how many (fewer at the end
   * of the file). For a caller that reads into a buffer of its own again and again.
   */
  readInto(offset: number, target: Buffer, purpose: Purpose): number
  /**
   * {@link readInto} without blocking the event loop: the read runs in the OS's thread pool while
   * other work goes on. Absent where reads cost no wait (a file in memory); callers then read
   * synchronously. `target` must not be touched until it resolves.
   */
  readIntoAsync?(offset: number, target: Buffer, purpose: Purpose): Promise<number>
  /**
   * Writes `data` (one buffer, or several written back to back) at `offset`, extending the file as
   * needed. Not durable until `sync` resolves.
   */
  write(offset: number, data: Uint8Array | readonly Uint8Array[], purpose: Purpose): void
  /** Cuts the file to `size` bytes. */
  truncate(size: number): void
  /** Resolves once every earlier write to this file is durable. */
  sync(): Promise<void>
  close(): void
}

/** The folder a database lives in: a flat set of named files. */
export interface FileSystem {
  /** The accounting every file of this file system reports to. */
  readonly io: IoStats
  /** A human-readable location for error messages (a path, or `memory:`). */
  readonly location: string
  /** Opens a file; with `create`, makes it (empty) when missing. Throws ENOENT-coded errors otherwise. */
  open(name: string, options?: { create?: boolean }): BlockFile
  exists(name: string): boolean
  /** Names of the files in the folder, sorted. */
  list(): string[]
  /** Removes a file; removal is durable once `syncDirectory` resolves. */
  remove(name: string): void
  /** Makes creations and removals durable. */
  syncDirectory(): Promise<void>
  /** Takes the folder's exclusive lock, or throws `LEVEL_LOCKED`. */
  lock(): void
  /** Releases the lock taken by `lock`. */
  unlock(): void
  /**
   * Puts this folder's file `name` into folder `target` under the same name, for a clone. With
   * `link`, by a hard link where both folders are on one file system; else (or where a link is
   * impossible) by a copy, reflinked where the file system can. Either way the two names are
   * independent only while neither is written in place: the caller shares only files never
   * written again (docs/format.md §Clones). Absent where the folder cannot share files.
   */
  share?(name: string, target: FileSystem, options: { link: boolean }): SharedFile
}

/** How {@link FileSystem.share} put a file into the other folder, and the bytes it wrote there (0 for a link). */
export interface SharedFile {
  how: 'linked' | 'copied'
  bytesWritten: number
}

/** Whether the folder `fs` has a file `name` with bytes in it (an engine's sign that a database is there). */
export function holdsBytes(fs: FileSystem, name: string): boolean {
  if (!fs.exists(name)) return false
  const file = fs.open(name)
  try {
    return file.size() > 0
  } finally {
    file.close()
  }
}

/** Makes the files `names` of folder `fs` durable, then their names: for files made by copy or link. */
export async function syncFiles(fs: FileSystem, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const file = fs.open(name)
    try {
      await file.sync()
    } finally {
      file.close()
    }
  }
  await fs.syncDirectory()
}
