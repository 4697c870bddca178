import { corruption, crc32 } from '@strata/storage'
import type { SlotReader } from './overflow.js'
import { verifySlotPadding } from './page-file.js'

/**
 * A byte stream kept on a chain of pages of pages.db (docs/format.md §Catalogue pages): the named
 * snapshot catalogue (kind 5) and each named snapshot's copy list (kind 6). Each page is
 *
 *   0  u32  CRC-32 of bytes [4, 16 + length)
 *   4  u8   kind
 *   5  u8   flags (0)
 *   6  u16  reserved (0)
 *   8  u32  length: stream bytes in this page
 *   12 u32  next page of the chain, 0 in the last
 *   16 stream bytes
 *
 * Every page but the last is full. Chains are written through the WAL at checkpoints like every
 * other page; a chain rewrites only the pages whose bytes changed, so a list that only grows costs
 * its last page (and any new ones) per checkpoint.
 */
export const CATALOGUE_KIND = 5
/** Page kind of a named snapshot's copy list. */
export const COPY_LIST_KIND = 6
const HEADER_BYTES = 16

/** Stream bytes one chain page holds. */
export function chainCapacity(pageSize: number): number {
  return pageSize - HEADER_BYTES
}

/** One page of a chain that a checkpoint must write: its number and its image behind `headroom` bytes. */
export interface ChainWrite {
  page: number
  framed: Buffer
}

/** A chain read back: the stream, the chain's pages, and where each page's bytes start in the stream. */
export interface ChainContents {
  bytes: Buffer
  pages: number[]
}

/**
 * Reads the chain of `kind` starting at `head` (0: an empty stream). `pageCount` bounds the walk.
 * A page that fails its checksum, is of another kind, is not full before the last, or a chain that
 * loops or runs past the file, is LEVEL_CORRUPTION.
 */
export function readChain(read: SlotReader, head: number, kind: number, pageCount: number, pageSize: number, location: string): ChainContents {
  const parts: Buffer[] = []
  const pages: number[] = []
  const capacity = chainCapacity(pageSize)
  for (let page = head; page !== 0; ) {
    const bad = (what: string) => corruption(location, page * pageSize, what)
    if (page >= pageCount || pages.length >= pageCount) throw bad('snapshot catalogue chain runs past the page file')
    const slot = read(page)
    if (slot.length < HEADER_BYTES) throw bad('truncated catalogue page')
    const length = slot.readUInt32LE(8)
    if (HEADER_BYTES + length > slot.length) throw bad('catalogue page runs past its slot')
    if (crc32(slot.subarray(4, HEADER_BYTES + length)) !== slot.readUInt32LE(0)) throw bad('catalogue page checksum mismatch')
    if (slot.readUInt8(4) !== kind) throw bad(`expected a page of kind ${kind}`)
    verifySlotPadding(slot, HEADER_BYTES + length, location, page * pageSize)
    const next = slot.readUInt32LE(12)
    if (next !== 0 && length !== capacity) throw bad('catalogue page is not full but the chain goes on')
    parts.push(slot.subarray(HEADER_BYTES, HEADER_BYTES + length))
    pages.push(page)
    page = next
  }
  return { bytes: Buffer.concat(parts), pages }
}

/**
 * The chain of one stream as it is on pages.db, and how to move it to a new stream: which pages to
 * write (only those whose image changes), which to allocate and which to give back.
 */
export class PageChain {
  readonly kind: number
  readonly pageSize: number
  /** The chain's pages, in order. */
  pages: number[]
  /** The stream the pages hold now. */
  #bytes: Buffer

  constructor(kind: number, pageSize: number, contents: ChainContents = { bytes: Buffer.alloc(0), pages: [] }) {
    this.kind = kind
    this.pageSize = pageSize
    this.pages = contents.pages.slice()
    this.#bytes = contents.bytes
  }

  /** The first page of the chain; 0 when the stream is empty. */
  get head(): number {
    return this.pages[0] ?? 0
  }

  /** The stream the chain holds. */
  get bytes(): Buffer {
    return this.#bytes
  }

  /**
   * Moves the chain to `bytes`: pages are allocated or given back so that it has exactly as many
   * as the stream needs, and the images of the pages that change (each behind `headroom` bytes)
   * are returned. The caller promises that the first `unchangedBefore` bytes are the chain's
   * current ones (a list that only grows), so those pages are not compared. The chain takes
   * `bytes` as its own.
   */
  rewrite(bytes: Buffer, allocate: () => number, free: (page: number) => void, headroom: number, unchangedBefore = 0): ChainWrite[] {
    const capacity = chainCapacity(this.pageSize)
    const needed = Math.ceil(bytes.length / capacity)
    const before = this.pages.slice()
    while (this.pages.length > needed) free(this.pages.pop() as number)
    while (this.pages.length < needed) this.pages.push(allocate())
    const writes: ChainWrite[] = []
    for (let i = 0; i < needed; i++) {
      const part = bytes.subarray(i * capacity, (i + 1) * capacity)
      const next = this.pages[i + 1] ?? 0
      const samePlace = before[i] === this.pages[i] && (before[i + 1] ?? 0) === next
      const same = samePlace && ((i + 1) * capacity <= unchangedBefore || part.equals(this.#bytes.subarray(i * capacity, (i + 1) * capacity)))
      if (!same) writes.push({ page: this.pages[i] as number, framed: encodeChainPage(this.kind, part, next, headroom) })
    }
    this.#bytes = bytes
    return writes
  }
}

/** The image of one chain page holding `part`, behind `headroom` free bytes. */
function encodeChainPage(kind: number, part: Buffer, next: number, headroom: number): Buffer {
  const framed = Buffer.allocUnsafe(headroom + HEADER_BYTES + part.length)
  const image = framed.subarray(headroom)
  image.writeUInt8(kind, 4)
  image.writeUInt8(0, 5)
  image.writeUInt16LE(0, 6)
  image.writeUInt32LE(part.length, 8)
  image.writeUInt32LE(next, 12)
  image.set(part, HEADER_BYTES)
  image.writeUInt32LE(crc32(image.subarray(4)), 0)
  return framed
}
