import type { BlockFile } from '@strata/storage'
import { MemoryFileData, MemoryFileSystem } from '@strata/storage'

/** Reads of one file: how many, and their bytes. */
export interface FileReads {
  reads: number
  bytes: number
}

/**
 * A memory file system that also tallies reads by file, so a benchmark can tell where a read went
 * (a COW snapshot read from a pre-image store or from pages.db) when the storage layer's purposes
 * do not: both count as page reads.
 */
export class TallyingFileSystem extends MemoryFileSystem {
  readonly #reads = new Map<string, FileReads>()

  /** A tallying copy of every file of `source`, unlocked, with zeroed counters. */
  static copyOf(source: MemoryFileSystem): TallyingFileSystem {
    const copy = new TallyingFileSystem(source.location)
    for (const [name, data] of source.files) copy.files.set(name, new MemoryFileData(data.snapshot()))
    return copy
  }

  override open(name: string, options?: { create?: boolean }): BlockFile {
    const file = super.open(name, options)
    const read = file.read.bind(file)
    file.read = (offset, length, purpose) => {
      const out = read(offset, length, purpose)
      const tally = this.#reads.get(name) ?? { reads: 0, bytes: 0 }
      tally.reads++
      tally.bytes += out.length
      this.#reads.set(name, tally)
      return out
    }
    return file
  }

  /** Reads so far by file name (a copy). */
  readsByFile(): Map<string, FileReads> {
    return new Map([...this.#reads].map(([name, tally]) => [name, { ...tally }]))
  }

  /** Bytes of every file now. */
  fileBytes(): number {
    let total = 0
    for (const data of this.files.values()) total += data.length
    return total
  }
}
