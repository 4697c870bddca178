import { execFileSync } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'

/**
 * The block device's own count of sectors written, for the device that holds `path`
 * (/sys/block/<dev>/stat, field 7, in 512-byte sectors). This is the ruler for stores we cannot
 * instrument. It counts every writer on the device, so runs on a busy machine read high.
 */
export class BlockDevice {
  readonly #statPath: string | undefined
  readonly #path: string

  constructor(path: string) {
    this.#path = path
    this.#statPath = findStat(path)
  }

  get available(): boolean {
    return this.#statPath !== undefined
  }

  /** For a loop device, the file behind it (a dedicated device for measuring); else undefined. */
  get backingFile(): string | undefined {
    const name = this.name
    if (!name?.startsWith('loop')) return undefined
    try {
      return readFileSync(`/sys/class/block/${name}/loop/backing_file`, 'utf8').trim()
    } catch {
      return undefined
    }
  }

  /** The device's name (`vda`, `nvme0n1p2`), or undefined where the counter cannot be read. */
  get name(): string | undefined {
    return this.#statPath?.split('/').at(-2)
  }

  /** Bytes written to the device so far, or undefined where the counter cannot be read. */
  bytesWritten(): number | undefined {
    if (!this.#statPath) return undefined
    const fields = readFileSync(this.#statPath, 'utf8').trim().split(/\s+/)
    return Number(fields[6]) * 512
  }

  /**
   * Writes the file system's dirty pages out (syncfs, through coreutils' `sync -f`), so that a
   * reading taken next counts what was written before it, not what the kernel still holds.
   */
  flush(): void {
    try {
      execFileSync('sync', ['-f', this.#path], { stdio: 'ignore' })
    } catch {
      // Without `sync -f` the reading counts only what the kernel has written back so far.
    }
  }

  /** Bytes written to the device while `run` ran, dirty pages flushed on both sides; undefined without a counter. */
  async bytesWrittenDuring(run: () => Promise<void>): Promise<number | undefined> {
    this.flush()
    const before = this.bytesWritten()
    await run()
    this.flush()
    const after = this.bytesWritten()
    return before === undefined || after === undefined ? undefined : after - before
  }
}

function findStat(path: string): string | undefined {
  try {
    const dev = statSync(path).dev
    const major = Math.floor(dev / 256)
    const minor = dev % 256
    const uevent = readFileSync(`/sys/dev/block/${major}:${minor}/uevent`, 'utf8')
    const name = /DEVNAME=(\S+)/.exec(uevent)?.[1]
    if (!name) return undefined
    for (const candidate of [`/sys/class/block/${name}/stat`, `/sys/block/${name}/stat`]) {
      try {
        readFileSync(candidate, 'utf8')
        // A partition's stat counts only that partition, which is what we want.
        return candidate
      } catch {}
    }
  } catch {}
  return undefined
}
