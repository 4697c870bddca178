import { ErrorCode, StrataError } from './errors.js'
import { decideFault, type FaultableFileSystem, type FaultInjector, faultError } from './fault.js'
import type { BlockFile, FileSystem, SharedFile } from './file-system.js'
import { IoStats, type Purpose } from './io-stats.js'

/** The bytes of one in-memory file. */
export class MemoryFileData {
  bytes: Buffer
  length: number
  /** How many names the file has: one for each folder map that holds it, as a hard link count is one per directory entry. */
  links = 0

  constructor(bytes: Buffer = Buffer.alloc(0)) {
    this.bytes = bytes
    this.length = bytes.length
  }

  write(offset: number, data: Uint8Array): void {
    const end = offset + data.length
    if (end > this.bytes.length) {
      const grown = Buffer.alloc(Math.max(end, this.bytes.length * 2, 4096))
      this.bytes.copy(grown, 0, 0, this.length)
      this.bytes = grown
    }
    if (offset > this.length) this.bytes.fill(0, this.length, offset)
    this.bytes.set(data, offset)
    this.length = Math.max(this.length, end)
  }

  truncate(size: number): void {
    if (size > this.length) this.write(this.length, Buffer.alloc(size - this.length))
    this.length = size
  }

  /** A copy of the contents. */
  snapshot(): Buffer {
    return Buffer.from(this.bytes.subarray(0, this.length))
  }
}

/**
 * The names of a memory folder. Each entry is one link of its file, counted on the file whichever
 * way the name comes or goes (`open`, `share`, `remove`, or a test that sets or clears the map
 * itself, as it does to delete a folder whole), so the count is true of every folder at once.
 */
class MemoryFolder extends Map<string, MemoryFileData> {
  override set(name: string, data: MemoryFileData): this {
    const before = this.get(name)
    if (before !== data) {
      if (before) before.links--
      data.links++
    }
    return super.set(name, data)
  }

  override delete(name: string): boolean {
    const data = this.get(name)
    if (data) data.links--
    return super.delete(name)
  }

  override clear(): void {
    for (const data of this.values()) data.links--
    super.clear()
  }
}

/** Observes every mutation of a memory file system; the crash simulator records through it. */
export interface MemoryFileSystemObserver {
  write(name: string, offset: number, data: Uint8Array): void
  /** A sync of `name` begins; the file's sync resolves once the returned promise does. */
  sync(name: string): void | Promise<void>
  /** A sync of the directory begins; it resolves once the returned promise does. */
  syncDirectory?(): void | Promise<void>
  truncate(name: string, size: number): void
  create(name: string): void
  /**
   * `name` is created as a new name for a file of another folder, whose bytes `data` are (a hard
   * link): the bytes are the other folder's, durable there, and only the new name needs a
   * directory sync. Observers without it hear a creation.
   */
  link?(name: string, data: Uint8Array): void
  remove(name: string): void
}

class MemoryBlockFile implements BlockFile {
  #closed = false

  constructor(
    readonly name: string,
    private readonly fs: MemoryFileSystem,
  ) {}

  #data(): MemoryFileData {
    if (this.#closed) throw new Error(`memory file ${this.name} is closed`)
    const data = this.fs.files.get(this.name)
    if (!data) throw new StrataError(ErrorCode.IO_ERROR, `memory file ${this.name} was removed`)
    return data
  }

  size(): number {
    return this.#data().length
  }

  links(): number {
    return this.#data().links
  }

  read(offset: number, length: number, purpose: Purpose): Buffer {
    const data = this.#data()
    const end = Math.min(data.length, offset + length)
    const out = Buffer.from(data.bytes.subarray(Math.min(offset, end), end))
    this.fs.io.countRead(purpose, out.length)
    return out
  }

  readInto(offset: number, target: Buffer, purpose: Purpose): number {
    return this.read(offset, target.length, purpose).copy(target)
  }

  write(offset: number, data: Uint8Array | readonly Uint8Array[], purpose: Purpose): void {
    let bytes = data instanceof Uint8Array ? data : Buffer.concat(data)
    const fault = decideFault(this.fs.faults, 'write', this.name, bytes.length)
    // A short write lands its first bytes, then fails, as a disk that fills up mid-write does.
    if (fault) bytes = bytes.subarray(0, fault.written)
    if (bytes.length > 0) {
      this.#data().write(offset, bytes)
      this.fs.observer?.write(this.name, offset, bytes)
      this.fs.io.countWrite(purpose, bytes.length)
    }
    if (fault) throw faultError(fault, 'write', this.name)
  }

  truncate(size: number): void {
    const fault = decideFault(this.fs.faults, 'truncate', this.name, 0)
    if (fault) throw faultError(fault, 'truncate', this.name)
    this.#data().truncate(size)
    this.fs.observer?.truncate(this.name, size)
  }

  async sync(): Promise<void> {
    const fault = decideFault(this.fs.faults, 'sync', this.name, 0)
    if (fault) throw faultError(fault, 'sync', this.name)
    this.#data()
    this.fs.io.countSync()
    await this.fs.observer?.sync(this.name)
  }

  close(): void {
    this.#closed = true
  }
}

/**
 * A database folder held in memory: for tests, and as the base of the crash simulator. Setting
 * `faults` fails chosen writes, syncs and truncations (full disks, I/O errors).
 */
export class MemoryFileSystem implements FaultableFileSystem {
  readonly io = new IoStats()
  readonly location: string
  /** The folder's files by name; a file in the maps of several folders is linked into each (see {@link MemoryFileSystem.share}). */
  readonly files: Map<string, MemoryFileData> = new MemoryFolder()
  observer: MemoryFileSystemObserver | undefined
  faults: FaultInjector | undefined
  #locked = false

  constructor(location = 'memory:') {
    this.location = location
  }

  open(name: string, options: { create?: boolean } = {}): BlockFile {
    if (!this.files.has(name)) {
      if (!options.create) {
        const error = new Error(`ENOENT: no such file ${name}`) as NodeJS.ErrnoException
        error.code = 'ENOENT'
        throw error
      }
      this.files.set(name, new MemoryFileData())
      this.observer?.create(name)
    }
    return new MemoryBlockFile(name, this)
  }

  exists(name: string): boolean {
    return this.files.has(name)
  }

  list(): string[] {
    return [...this.files.keys()].sort()
  }

  remove(name: string): void {
    this.files.delete(name)
    this.observer?.remove(name)
  }

  async syncDirectory(): Promise<void> {
    const fault = decideFault(this.faults, 'sync', '.', 0)
    if (fault) throw faultError(fault, 'sync', '.')
    await this.observer?.syncDirectory?.()
  }

  lock(): void {
    if (this.#locked) throw new StrataError(ErrorCode.LOCKED, `${this.location} is locked by another open`)
    this.#locked = true
  }

  unlock(): void {
    this.#locked = false
  }

  /**
   * A link is the same {@link MemoryFileData} under a name in each folder, as a hard link is one
   * inode: a write in place through either name shows through the other, so tests catch one, and
   * the file counts one link more.
   */
  share(name: string, target: FileSystem, options: { link: boolean }): SharedFile {
    const data = this.files.get(name)
    if (!data) throw new StrataError(ErrorCode.IO_ERROR, `memory file ${name} does not exist`)
    if (!(target instanceof MemoryFileSystem)) throw new StrataError(ErrorCode.NOT_SUPPORTED, `cannot share ${name} with ${target.location}: not a memory file system`)
    if (target.files.has(name)) throw new StrataError(ErrorCode.IO_ERROR, `${target.location}/${name} already exists`)
    const shared = options.link ? data : new MemoryFileData(data.snapshot())
    target.files.set(name, shared)
    if (options.link) {
      if (target.observer?.link) target.observer.link(name, shared.bytes.subarray(0, shared.length))
      else target.observer?.create(name)
      return { how: 'linked', bytesWritten: 0 }
    }
    target.observer?.create(name)
    target.observer?.write(name, 0, shared.bytes.subarray(0, shared.length))
    return { how: 'copied', bytesWritten: shared.length }
  }

  /** A deep copy of every file, as a new unlocked file system. */
  clone(): MemoryFileSystem {
    const copy = new MemoryFileSystem(this.location)
    for (const [name, data] of this.files) copy.files.set(name, new MemoryFileData(data.snapshot()))
    return copy
  }
}
