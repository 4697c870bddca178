import * as fs from 'node:fs'
import { join, resolve } from 'node:path'
import { ErrorCode, StrataError } from './errors.js'
import type { BlockFile, FileSystem, SharedFile } from './file-system.js'
import { releaseFolderLock, takeFolderLock } from './folder-lock.js'
import { IoStats, type Purpose } from './io-stats.js'

/** Folders locked by this process: a second open from the same process must fail too. */
const lockedHere = new Set<string>()

function ioError(error: unknown, what: string): StrataError {
  const code = (error as NodeJS.ErrnoException).code ?? 'EIO'
  return new StrataError(ErrorCode.IO_ERROR, `${what} failed (${code})`, { cause: error })
}

class NodeBlockFile implements BlockFile {
  #fd: number
  #size: number

  constructor(
    readonly name: string,
    readonly path: string,
    fd: number,
    private readonly io: IoStats,
  ) {
    this.#fd = fd
    this.#size = fs.fstatSync(fd).size
  }

  size(): number {
    return this.#size
  }

  links(): number {
    try {
      return fs.fstatSync(this.#fd).nlink
    } catch (error) {
      throw ioError(error, `reading the links of ${this.path}`)
    }
  }

  read(offset: number, length: number, purpose: Purpose): Buffer {
    const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(length, this.#size - offset)))
    const done = this.readInto(offset, buffer, purpose)
    return done === buffer.length ? buffer : buffer.subarray(0, done)
  }

  readInto(offset: number, target: Buffer, purpose: Purpose): number {
    const wanted = Math.max(0, Math.min(target.length, this.#size - offset))
    let done = 0
    while (done < wanted) {
      const n = fs.readSync(this.#fd, target, done, wanted - done, offset + done)
      if (n === 0) break
      done += n
    }
    this.io.countRead(purpose, done)
    return done
  }

  readIntoAsync(offset: number, target: Buffer, purpose: Purpose): Promise<number> {
    const wanted = Math.max(0, Math.min(target.length, this.#size - offset))
    return new Promise((resolve, reject) => {
      const finish = (done: number) => {
        this.io.countRead(purpose, done)
        resolve(done)
      }
      const step = (done: number) => {
        if (done >= wanted) return finish(done)
        fs.read(this.#fd, target, done, wanted - done, offset + done, (error, n) => {
          if (error) reject(ioError(error, `reading ${this.path}`))
          else if (n === 0) finish(done)
          else step(done + n)
        })
      }
      step(0)
    })
  }

  write(offset: number, data: Uint8Array | readonly Uint8Array[], purpose: Purpose): void {
    const parts = data instanceof Uint8Array ? [data] : data
    let at = offset
    try {
      // writev in groups of at most IOV_MAX buffers; a short write finishes part by part.
      for (let first = 0; first < parts.length; first += 1024) {
        const group = parts.slice(first, first + 1024) as Uint8Array[]
        const length = group.reduce((sum, part) => sum + part.length, 0)
        const done = fs.writevSync(this.#fd, group, at)
        if (done < length) {
          const rest = Buffer.concat(group).subarray(done)
          let written = 0
          while (written < rest.length) written += fs.writeSync(this.#fd, rest, written, rest.length - written, at + done + written)
        }
        at += length
      }
    } catch (error) {
      throw ioError(error, `writing ${this.path}`)
    }
    this.io.countWrite(purpose, at - offset)
    this.#size = Math.max(this.#size, at)
  }

  truncate(size: number): void {
    try {
      fs.ftruncateSync(this.#fd, size)
    } catch (error) {
      throw ioError(error, `truncating ${this.path}`)
    }
    this.#size = size
  }

  sync(): Promise<void> {
    this.io.countSync()
    return new Promise((resolve, reject) => {
      fs.fdatasync(this.#fd, (error) => (error ? reject(ioError(error, `syncing ${this.path}`)) : resolve()))
    })
  }

  close(): void {
    if (this.#fd >= 0) fs.closeSync(this.#fd)
    this.#fd = -1
  }
}

/** Options of a {@link NodeFileSystem}. */
export interface NodeFileSystemOptions {
  /** Create the folder if it does not exist. Default false. */
  create?: boolean
  /**
   * For a read-only open: files are opened for reading only, no file is created or removed, and
   * on a read-only file system (`EROFS`) the lock is taken without a `LOCK` file, as nothing can
   * write there. So a database on read-only media opens. Default false.
   */
  readOnly?: boolean
}

/** A database folder on the real file system. */
export class NodeFileSystem implements FileSystem {
  readonly io = new IoStats()
  readonly location: string
  readonly readOnly: boolean
  #locked = false
  /** Whether this open made the `LOCK` file (not so for a read-only open on read-only media). */
  #lockFile = false
  #lockKey = ''

  constructor(directory: string, options: NodeFileSystemOptions = {}) {
    this.location = resolve(directory)
    this.readOnly = options.readOnly === true
    if (options.create && !this.readOnly) fs.mkdirSync(this.location, { recursive: true })
  }

  open(name: string, options: { create?: boolean } = {}): BlockFile {
    const path = join(this.location, name)
    if (this.readOnly) {
      if (options.create && !fs.existsSync(path)) throw this.#refused(`create ${name}`)
      return new NodeBlockFile(name, path, fs.openSync(path, fs.constants.O_RDONLY), this.io)
    }
    const fd = fs.openSync(path, options.create ? fs.constants.O_RDWR | fs.constants.O_CREAT : fs.constants.O_RDWR, 0o644)
    return new NodeBlockFile(name, path, fd, this.io)
  }

  #refused(what: string): StrataError {
    return new StrataError(ErrorCode.READONLY, `${this.location} was opened read-only: cannot ${what}`)
  }

  exists(name: string): boolean {
    return fs.existsSync(join(this.location, name))
  }

  list(): string[] {
    return fs.readdirSync(this.location).sort()
  }

  remove(name: string): void {
    if (this.readOnly) throw this.#refused(`remove ${name}`)
    fs.rmSync(join(this.location, name), { force: true })
  }

  syncDirectory(): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.open(this.location, 'r', (openError, fd) => {
        if (openError) return reject(ioError(openError, `opening ${this.location}`))
        fs.fsync(fd, (syncError) => {
          fs.close(fd, () => (syncError ? reject(ioError(syncError, `syncing ${this.location}`)) : resolve()))
        })
      })
    })
  }

  /**
   * A hard link when asked and possible; else a copy with `COPYFILE_FICLONE`, which the kernel
   * makes a reflink (no data written) on file systems that have them (btrfs, XFS, APFS) and a
   * plain copy elsewhere. A link fails across file systems (`EXDEV`) and where links are not
   * allowed (`EPERM`); then the file is copied.
   */
  share(name: string, target: FileSystem, options: { link: boolean }): SharedFile {
    if (this.readOnly) throw this.#refused(`share ${name}`)
    if (!(target instanceof NodeFileSystem)) throw new StrataError(ErrorCode.NOT_SUPPORTED, `cannot share ${name} with ${target.location}: not a folder on disk`)
    const from = join(this.location, name)
    const to = join(target.location, name)
    if (options.link) {
      try {
        fs.linkSync(from, to)
        return { how: 'linked', bytesWritten: 0 }
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw ioError(error, `linking ${from} to ${to}`)
      }
    }
    try {
      fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE)
      return { how: 'copied', bytesWritten: fs.statSync(to).size }
    } catch (error) {
      throw ioError(error, `copying ${from} to ${to}`)
    }
  }

  /**
   * Takes the folder's lock: a `LOCK` file holding our pid, created exclusively. A lock file left
   * by a process that no longer runs is taken over, by one process at a time (see folder-lock.ts).
   * A read-only open on a read-only file system takes the lock within this process only: no
   * process can write there to need excluding.
   */
  lock(): void {
    const locked = () => new StrataError(ErrorCode.LOCKED, `${this.location} is locked by another open`)
    let taken: boolean
    try {
      // One folder reached by two paths (a symlink, a relative path) is still one database.
      this.#lockKey = fs.realpathSync(this.location)
      if (lockedHere.has(this.#lockKey)) throw locked()
      taken = takeFolderLock(this.location)
    } catch (error) {
      if (error instanceof StrataError) throw error
      // Nothing can be written on read-only media, so no process there needs excluding.
      if ((error as NodeJS.ErrnoException).code === 'EROFS' && this.readOnly) return this.#lockHere()
      throw ioError(error, `locking ${this.location}`)
    }
    if (!taken) throw locked()
    this.#lockHere()
    this.#lockFile = true
  }

  /** Takes the lock within this process only, without a `LOCK` file. */
  #lockHere(): void {
    lockedHere.add(this.#lockKey)
    this.#locked = true
  }

  unlock(): void {
    if (!this.#locked) return
    if (this.#lockFile) releaseFolderLock(this.location)
    lockedHere.delete(this.#lockKey)
    this.#locked = false
    this.#lockFile = false
  }
}
