import type { BlockFile, FileSystem } from './file-system.js'
import type { IoStats, Purpose } from './io-stats.js'

/** Changes are kept in chunks of this many bytes: a page written twice costs one chunk. */
const CHUNK_BYTES = 4096

/**
 * One file as the overlay shows it: bytes written through the overlay from its chunks, the rest of
 * its first `baseLength` bytes from the folder's file, anything else zero, up to `length`.
 */
class OverlayData {
  readonly name: string
  /** The folder holding the file the overlay starts from; undefined for a file made in the overlay. */
  readonly #folder: FileSystem | undefined
  /** The folder's file, open while a handle is. */
  #file: BlockFile | undefined
  #handles = 0
  length: number
  /** Bytes at the start still read from the folder's file: no more than it holds, nor than a truncation left. */
  baseLength: number
  /** Written chunks by index; the bytes of a chunk at or past `length` are zero. */
  readonly chunks = new Map<number, Buffer>()
  /** False once the file's name is removed through the overlay; handles still open go on using it. */
  named = true

  constructor(name: string, folder: FileSystem | undefined) {
    this.name = name
    this.#folder = folder
    this.#file = folder?.open(name)
    this.length = this.baseLength = this.#file?.size() ?? 0
  }

  /** A handle opens: the folder's file is opened again if the last handle closed it. */
  attach(): void {
    if (this.#handles++ === 0 && this.#folder && !this.#file) this.#file = this.#folder.open(this.name)
  }

  /** A handle closes: the folder's file is closed with the last one. */
  detach(): void {
    if (--this.#handles > 0) return
    this.#file?.close()
    this.#file = undefined
  }

  /**
   * The file's names as the overlay shows them: those of the folder's file, or one for a file made
   * in the overlay; one fewer once the overlay removed its name. Asked through an open handle, so
   * the folder's file is open.
   */
  links(): number {
    const names = this.#folder ? (this.#file as BlockFile).links() : 1
    return this.named ? names : names - 1
  }

  /** Bytes `[offset, end)` of the folder's file, counted as read for `purpose`; `end` ≤ `baseLength`. */
  readBase(offset: number, end: number, purpose: Purpose): Buffer {
    return (this.#file as BlockFile).read(offset, end - offset, purpose)
  }

  /** Chunk `index`, made at the first write to it from the folder's bytes (a read, counted under the write's purpose). */
  chunk(index: number, purpose: Purpose): Buffer {
    let chunk = this.chunks.get(index)
    if (!chunk) {
      chunk = Buffer.alloc(CHUNK_BYTES)
      const start = index * CHUNK_BYTES
      const end = Math.min(start + CHUNK_BYTES, this.baseLength)
      if (end > start) this.readBase(start, end, purpose).copy(chunk)
      this.chunks.set(index, chunk)
    }
    return chunk
  }

  /** The indexes of the written chunks that hold bytes of `[offset, end)`, ascending. */
  chunksWithin(offset: number, end: number): number[] {
    const first = Math.floor(offset / CHUNK_BYTES)
    const last = Math.floor((end - 1) / CHUNK_BYTES)
    if (last - first + 1 <= this.chunks.size) return Array.from({ length: last - first + 1 }, (_, i) => first + i).filter((c) => this.chunks.has(c))
    return [...this.chunks.keys()].filter((c) => c >= first && c <= last).sort((a, b) => a - b)
  }
}

/** A handle on a file of an overlay. */
class OverlayBlockFile implements BlockFile {
  readonly #data: OverlayData
  readonly #io: IoStats
  #closed = false

  constructor(data: OverlayData, io: IoStats) {
    this.#data = data
    this.#io = io
    data.attach()
  }

  get name(): string {
    return this.#data.name
  }

  size(): number {
    return this.#data.length
  }

  links(): number {
    return this.#data.links()
  }

  read(offset: number, length: number, purpose: Purpose): Buffer {
    const data = this.#data
    const end = Math.min(data.length, offset + length)
    if (end <= offset) return Buffer.alloc(0)
    const written = data.chunks.size === 0 ? [] : data.chunksWithin(offset, end)
    if (written.length === 0 && end <= data.baseLength) return data.readBase(offset, end, purpose)
    const out = Buffer.alloc(end - offset)
    const baseEnd = Math.min(end, data.baseLength)
    if (baseEnd > offset) data.readBase(offset, baseEnd, purpose).copy(out)
    for (const index of written) {
      const start = index * CHUNK_BYTES
      const from = Math.max(offset, start)
      const to = Math.min(end, start + CHUNK_BYTES)
      ;(data.chunks.get(index) as Buffer).copy(out, from - offset, from - start, to - start)
    }
    // The bytes that came from memory are counted too: the reader asked the file for them.
    if (end > baseEnd) this.#io.countRead(purpose, end - Math.max(offset, baseEnd))
    return out
  }

  readInto(offset: number, target: Buffer, purpose: Purpose): number {
    return this.read(offset, target.length, purpose).copy(target)
  }

  /** Keeps `data` in memory; nothing reaches the folder, and nothing is counted as written. */
  write(offset: number, data: Uint8Array | readonly Uint8Array[], purpose: Purpose): void {
    let at = offset
    for (const part of data instanceof Uint8Array ? [data] : data) {
      for (let done = 0; done < part.length; ) {
        const index = Math.floor((at + done) / CHUNK_BYTES)
        const into = (at + done) % CHUNK_BYTES
        const n = Math.min(part.length - done, CHUNK_BYTES - into)
        this.#data.chunk(index, purpose).set(part.subarray(done, done + n), into)
        done += n
      }
      at += part.length
    }
    this.#data.length = Math.max(this.#data.length, at)
  }

  truncate(size: number): void {
    const data = this.#data
    if (size < data.length) {
      data.baseLength = Math.min(data.baseLength, size)
      for (const index of [...data.chunks.keys()]) if (index * CHUNK_BYTES >= size) data.chunks.delete(index)
      data.chunks.get(Math.floor(size / CHUNK_BYTES))?.fill(0, size % CHUNK_BYTES)
    }
    data.length = size
  }

  /** Resolves at once: what the overlay holds is never meant to last. */
  async sync(): Promise<void> {}

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#data.detach()
  }
}

/**
 * A folder seen through changes kept in memory: files read as the writes, truncations, creations
 * and removals made through the overlay left them, and the folder itself is never written. A
 * read-only open recovers through one, so that what recovery would write (a checkpoint redone, a
 * torn tail cut off) is seen by its reads and reaches no file. Only the lock goes to the folder.
 * Every read is counted in the folder's I/O accounting; writes and syncs, which reach no disk, are not.
 */
export class OverlayFileSystem implements FileSystem {
  readonly #folder: FileSystem
  /** Every file opened, made or changed through the overlay, by name. */
  readonly #files = new Map<string, OverlayData>()
  /** Files of the folder removed through the overlay. */
  readonly #removed = new Set<string>()

  constructor(folder: FileSystem) {
    this.#folder = folder
  }

  get io(): IoStats {
    return this.#folder.io
  }

  get location(): string {
    return this.#folder.location
  }

  open(name: string, options: { create?: boolean } = {}): BlockFile {
    let data = this.#files.get(name)
    if (!data) {
      if (!this.#removed.has(name) && this.#folder.exists(name)) data = new OverlayData(name, this.#folder)
      else if (options.create) data = new OverlayData(name, undefined)
      else throw missing(`${this.location}/${name}`)
      this.#files.set(name, data)
    }
    return new OverlayBlockFile(data, this.io)
  }

  exists(name: string): boolean {
    return this.#files.has(name) || (!this.#removed.has(name) && this.#folder.exists(name))
  }

  list(): string[] {
    const names = new Set(this.#folder.list().filter((name) => !this.#removed.has(name)))
    for (const name of this.#files.keys()) names.add(name)
    return [...names].sort()
  }

  /** Hides the file; handles still open on it go on reading and writing it, as on a POSIX file system. */
  remove(name: string): void {
    const data = this.#files.get(name)
    if (data) data.named = false
    this.#files.delete(name)
    this.#removed.add(name)
  }

  async syncDirectory(): Promise<void> {}

  lock(): void {
    this.#folder.lock()
  }

  unlock(): void {
    this.#folder.unlock()
  }
}

/** The error opening a missing file gives, coded as the OS codes it. */
function missing(path: string): NodeJS.ErrnoException {
  const error = new Error(`ENOENT: no such file or directory, open '${path}'`) as NodeJS.ErrnoException
  error.code = 'ENOENT'
  return error
}
