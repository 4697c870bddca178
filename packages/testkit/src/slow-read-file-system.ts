import { type BlockFile, MemoryFileSystem } from '@strata/storage'

/** Reads the OS runs at once off the event loop: the size of Node's thread pool (UV_THREADPOOL_SIZE, 4 by default). */
const THREAD_POOL = 4

/**
 * A folder in memory whose reads take as long as a disk's: a read made synchronously holds the
 * thread for `delayMs` (as `pread` on a cold disk would); one made without blocking waits for one
 * of {@link THREAD_POOL} threads, as Node's reads do, and resolves `delayMs` after it gets one,
 * while the event loop runs on.
 */
export class SlowReadFileSystem extends MemoryFileSystem {
  /** Reads made so far: those that held the thread, and those that did not. */
  readonly reads = { blocking: 0, nonBlocking: 0 }
  #busy = 0
  readonly #waiting: (() => void)[] = []

  constructor(
    readonly delayMs: number,
    /** How long a sync takes. */
    readonly syncMs = 0,
  ) {
    super('slow-read:')
  }

  /** Runs `read` on a free thread of the pool, `delayMs` after it gets one. */
  #offThread<T>(read: () => T): Promise<T> {
    return new Promise((resolve, reject) => {
      const start = () => {
        this.#busy++
        setTimeout(() => {
          this.#busy--
          this.#waiting.shift()?.()
          try {
            resolve(read())
          } catch (error) {
            reject(error)
          }
        }, this.delayMs)
      }
      if (this.#busy < THREAD_POOL) start()
      else this.#waiting.push(start)
    })
  }

  override open(name: string, options?: { create?: boolean }): BlockFile {
    const file = super.open(name, options)
    const hold = () => {
      this.reads.blocking++
      const until = performance.now() + this.delayMs
      while (performance.now() < until) {
        // The thread is busy, as in a read that waits for the disk.
      }
    }
    return {
      name: file.name,
      size: () => file.size(),
      links: () => file.links(),
      read: (offset, length, purpose) => {
        hold()
        return file.read(offset, length, purpose)
      },
      readInto: (offset, target, purpose) => {
        hold()
        return file.readInto(offset, target, purpose)
      },
      readIntoAsync: (offset, target, purpose) => {
        this.reads.nonBlocking++
        return this.#offThread(() => file.readInto(offset, target, purpose))
      },
      write: (offset, data, purpose) => file.write(offset, data, purpose),
      truncate: (size) => file.truncate(size),
      close: () => file.close(),
      sync: () => new Promise<void>((resolve) => setTimeout(resolve, this.syncMs)).then(() => file.sync()),
    }
  }
}
