import { readFileSync, statSync } from 'node:fs'

/**
 * The block device's own count of sectors written, for the device that holds `path`
 * (/sys/block/<dev>/stat, field 7, in 512-byte sectors). This is the ruler for stores we cannot
 * instrument. It counts every writer on the device, so runs on a busy machine read high.
 */
export class BlockDevice {
  readonly #statPath: string | undefined

  constructor(path: string) {
    this.#statPath = findStat(path)
  }

  get available(): boolean {
    return this.#statPath !== undefined
  }

  /** Bytes written to the device so far, or undefined where the counter cannot be read. */
  bytesWritten(): number | undefined {
    if (!this.#statPath) return undefined
    const fields = readFileSync(this.#statPath, 'utf8').trim().split(/\s+/)
    return Number(fields[6]) * 512
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
