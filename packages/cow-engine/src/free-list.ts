import { corruption, crc32 } from '@strata/storage'
import type { SlotReader } from './overflow.js'
import { verifySlotPadding } from './page-file.js'

/**
 * The persisted free list (docs/format.md §Free-list pages): the numbers of the free pages of a
 * checkpoint, in a chain of pages that the meta names by its first page. Each page is
 *
 *   0  u32  CRC-32 of bytes [4, 16 + 4 × count)
 *   4  u8   kind: 4
 *   5  u8   flags (0)
 *   6  u16  reserved (0)
 *   8  u32  count: page numbers in this page
 *   12 u32  next page of the chain, 0 in the last
 *   16 count × u32 free page numbers, ascending across the chain
 *
 * The chain's own pages are in use, not free. A checkpoint that changes the free set rewrites the
 * chain in place, through the WAL like every other page.
 */
export const FREE_LIST_KIND = 4
const HEADER_BYTES = 16

/** Free page numbers one free-list page holds. */
export function freeListCapacity(pageSize: number): number {
  return Math.floor((pageSize - HEADER_BYTES) / 4)
}

/** Chain pages needed to list `entries` free pages. */
export function freeListPageCount(entries: number, pageSize: number): number {
  return Math.ceil(entries / freeListCapacity(pageSize))
}

/**
 * The images of a chain on `chain` listing `entries` (ascending), each with `headroom` free bytes
 * in front for a WAL record header. `chain` must have exactly freeListPageCount pages.
 */
export function encodeFreeList(entries: readonly number[], chain: readonly number[], pageSize: number, headroom: number): Buffer[] {
  const capacity = freeListCapacity(pageSize)
  return chain.map((_, i) => {
    const part = entries.slice(i * capacity, (i + 1) * capacity)
    const framed = Buffer.allocUnsafe(headroom + HEADER_BYTES + 4 * part.length)
    const image = framed.subarray(headroom)
    image.writeUInt8(FREE_LIST_KIND, 4)
    image.writeUInt8(0, 5)
    image.writeUInt16LE(0, 6)
    image.writeUInt32LE(part.length, 8)
    image.writeUInt32LE(chain[i + 1] ?? 0, 12)
    part.forEach((page, j) => image.writeUInt32LE(page, HEADER_BYTES + 4 * j))
    image.writeUInt32LE(crc32(image.subarray(4)), 0)
    return framed
  })
}

/**
 * Reads the chain starting at `head`, which must list exactly `total` pages; returns the free
 * pages and the chain's own pages (a chain may have more pages than its entries need: it only
 * shrinks at compaction). `pageCount` bounds the walk. Any mismatch is LEVEL_CORRUPTION.
 */
export function readFreeList(read: SlotReader, head: number, total: number, pageCount: number, pageSize: number, location: string): { entries: number[]; chain: number[] } {
  const entries: number[] = []
  const chain: number[] = []
  for (let page = head; page !== 0; ) {
    const bad = (what: string) => corruption(location, page * pageSize, what)
    if (chain.length >= pageCount || page >= pageCount) throw bad('free list runs past the page file')
    const slot = read(page)
    if (slot.length < HEADER_BYTES) throw bad('truncated free-list page')
    const count = slot.readUInt32LE(8)
    if (HEADER_BYTES + 4 * count > slot.length) throw bad('free-list page runs past its slot')
    if (crc32(slot.subarray(4, HEADER_BYTES + 4 * count)) !== slot.readUInt32LE(0)) throw bad('free-list page checksum mismatch')
    if (slot.readUInt8(4) !== FREE_LIST_KIND) throw bad('meta names a free list on a page that is not a free-list page')
    verifySlotPadding(slot, HEADER_BYTES + 4 * count, location, page * pageSize)
    for (let i = 0; i < count; i++) entries.push(slot.readUInt32LE(HEADER_BYTES + 4 * i))
    chain.push(page)
    page = slot.readUInt32LE(12)
  }
  if (entries.length !== total) throw corruption(location, head * pageSize, `free list holds ${entries.length} pages, the meta says ${total}`)
  return { entries, chain }
}
