import type { PageAddress } from '@strata/btree'
import { type BlockFile, corruption, type FileSystem, type Purpose } from '@strata/storage'
import { encodeMeta, META_AREA_BYTES, type Meta, slotOffset } from './meta.js'

/** The file name of the page file. */
export const PAGE_FILE = 'pages.db'

/**
 * A node's address in this engine: its page number. The page lives at byte `page × pageSize` of
 * pages.db and stays there while it is in use.
 */
export type PageNumber = PageAddress

/** A page number as the tree stores it. */
export function pageNumber(page: number): PageNumber {
  return page as PageNumber
}

/** One page a checkpoint writes in place. */
export interface PageWrite {
  page: number
  /** The page image: a B+tree node, an overflow page or a free-list page, at most one page long. */
  image: Buffer
  purpose: Purpose
}

/**
 * pages.db: the meta area, then fixed page slots of `pageSize` bytes, page `n` at byte
 * `n × pageSize` (docs/format.md §Page file). Pages are updated in place, always a whole slot at a
 * time (the image, then zeroes to the slot's end), as the disk would write them anyway.
 */
export class PageFile {
  readonly pageSize: number
  /** The file's path, for error messages. */
  readonly location: string
  readonly #file: BlockFile
  readonly #zeroes: Buffer

  private constructor(fs: FileSystem, file: BlockFile, pageSize: number) {
    this.#file = file
    this.pageSize = pageSize
    this.location = `${fs.location}/${PAGE_FILE}`
    this.#zeroes = Buffer.alloc(pageSize)
  }

  /** Opens pages.db (creating an empty one if asked) for pages of `pageSize` bytes. */
  static open(fs: FileSystem, pageSize: number, create = false): PageFile {
    return new PageFile(fs, fs.open(PAGE_FILE, { create }), pageSize)
  }

  /** Reads the meta area: the first 1024 bytes (fewer if the file is shorter). */
  static readMetaArea(fs: FileSystem): Buffer | undefined {
    if (!fs.exists(PAGE_FILE)) return undefined
    const file = fs.open(PAGE_FILE)
    try {
      return file.read(0, META_AREA_BYTES, 'meta')
    } finally {
      file.close()
    }
  }

  /** The slot of page `page`: `pageSize` bytes, fewer past the file's end. The caller owns the result. */
  readSlot(page: number, purpose: Purpose): Buffer {
    return this.#file.read(page * this.pageSize, this.pageSize, purpose)
  }

  /**
   * {@link readSlot} without blocking the event loop, where the file can read so; undefined where
   * it cannot (a file in memory), for the caller to read at once.
   */
  readSlotAsync(page: number, purpose: Purpose): Promise<Buffer> | undefined {
    const slot = Buffer.allocUnsafe(this.pageSize)
    return this.#file.readIntoAsync?.(page * this.pageSize, slot, purpose).then((got) => (got === slot.length ? slot : slot.subarray(0, got)))
  }

  /** The slot of page `page` as a whole page: padded with zeroes if the file ends inside it. The caller owns the result. */
  readWholeSlot(page: number, purpose: Purpose): Buffer {
    const slot = this.readSlot(page, purpose)
    if (slot.length === this.pageSize) return slot
    const whole = Buffer.alloc(this.pageSize)
    slot.copy(whole)
    return whole
  }

  /**
   * Verifies that the bytes of slot `page` after its image (`imageLength` bytes) are zero, as every
   * write pads them: damage there is LEVEL_CORRUPTION like damage in the image.
   */
  verifyPadding(slot: Buffer, imageLength: number, page: number): void {
    verifySlotPadding(slot, imageLength, this.location, page * this.pageSize)
  }

  /** The first `length` bytes of page `page` (a header). The caller owns the result. */
  readHead(page: number, length: number, purpose: Purpose): Buffer {
    return this.#file.read(page * this.pageSize, length, purpose)
  }

  /**
   * Writes each page into its slot, padded with zeroes to a whole page. Runs of consecutive pages
   * of one purpose go out as one gathered write.
   */
  writePages(writes: readonly PageWrite[]): void {
    const sorted = writes.slice().sort((a, b) => a.page - b.page)
    for (let i = 0; i < sorted.length; ) {
      const first = sorted[i] as PageWrite
      const parts: Buffer[] = []
      let j = i
      for (; j < sorted.length; j++) {
        const w = sorted[j] as PageWrite
        if (w.page !== first.page + (j - i) || w.purpose !== first.purpose) break
        parts.push(w.image)
        if (w.image.length < this.pageSize) parts.push(this.#zeroes.subarray(0, this.pageSize - w.image.length))
      }
      this.#file.write(first.page * this.pageSize, parts, first.purpose)
      i = j
    }
  }

  /** Writes `meta` into the slot its generation goes to (the one not holding the current meta). */
  writeMeta(meta: Meta): void {
    this.#file.write(slotOffset(meta.generation), encodeMeta(meta), 'meta')
  }

  /** Writes the whole meta area of a new database: `meta` in its slot, zeroes elsewhere. */
  writeMetaArea(meta: Meta): void {
    const area = Buffer.alloc(META_AREA_BYTES)
    encodeMeta(meta).copy(area, slotOffset(meta.generation))
    this.#file.write(0, area, 'meta')
  }

  /** Resolves once every write so far is durable. */
  sync(): Promise<void> {
    return this.#file.sync()
  }

  /** Bytes of the file. */
  size(): number {
    return this.#file.size()
  }

  /** Bytes of the file if it has more than one name (hard links), else 0. */
  sharedBytes(): number {
    return this.#file.links() > 1 ? this.#file.size() : 0
  }

  /** Cuts the file to `pageCount` pages. */
  truncatePages(pageCount: number): void {
    if (this.#file.size() > pageCount * this.pageSize) this.#file.truncate(pageCount * this.pageSize)
  }

  close(): void {
    this.#file.close()
  }
}

const ZEROES = Buffer.alloc(65536)

/** Throws LEVEL_CORRUPTION unless the bytes of `slot` (at `offset` in `location`) after `imageLength` are zero. */
export function verifySlotPadding(slot: Buffer, imageLength: number, location: string, offset: number): void {
  const rest = slot.subarray(Math.min(imageLength, slot.length))
  if (rest.length > 0 && !rest.equals(ZEROES.subarray(0, rest.length))) throw corruption(location, offset + imageLength, 'nonzero bytes after the page image')
}
