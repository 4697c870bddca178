import { corruption, crc32 } from '@strata/storage'
import { verifySlotPadding } from './page-file.js'

/**
 * Overflow pages: where a checkpoint puts a value too large for a leaf (docs/format.md §Overflow
 * pages). A value is a chain of pages, each
 *
 *   0  u32  CRC-32 of bytes [4, 16 + length)
 *   4  u8   kind: 3 (a B+tree page has 1 or 2 here, so one is never read as the other)
 *   5  u8   flags (0)
 *   6  u16  reserved (0)
 *   8  u32  length: value bytes in this page
 *   12 u32  next page of the chain, 0 in the last
 *   16 value bytes
 *
 * The leaf entry holds the first page's number and the value's length.
 */
export const OVERFLOW_KIND = 3
const HEADER_BYTES = 16

/** Reads one page slot of pages.db (or of a snapshot's view of it). */
export type SlotReader = (page: number) => Buffer

/** Value bytes one overflow page holds. */
export function overflowCapacity(pageSize: number): number {
  return pageSize - HEADER_BYTES
}

/** Pages a value of `length` bytes takes (an empty value still takes one). */
export function overflowPageCount(length: number, pageSize: number): number {
  return Math.max(1, Math.ceil(length / overflowCapacity(pageSize)))
}

/**
 * The page images of a chain holding `value` on `pages` (as many as overflowPageCount gives), each
 * with `headroom` free bytes in front for a WAL record header.
 */
export function encodeOverflow(value: Buffer, pages: readonly number[], pageSize: number, headroom: number): Buffer[] {
  const capacity = overflowCapacity(pageSize)
  return pages.map((_, i) => {
    const part = value.subarray(i * capacity, (i + 1) * capacity)
    const framed = Buffer.allocUnsafe(headroom + HEADER_BYTES + part.length)
    const image = framed.subarray(headroom)
    image.writeUInt8(OVERFLOW_KIND, 4)
    image.writeUInt8(0, 5)
    image.writeUInt16LE(0, 6)
    image.writeUInt32LE(part.length, 8)
    image.writeUInt32LE(pages[i + 1] ?? 0, 12)
    image.set(part, HEADER_BYTES)
    image.writeUInt32LE(crc32(image.subarray(4)), 0)
    return framed
  })
}

/** Verifies one overflow page and returns its value bytes (a view) and the next page. */
function parsePage(slot: Buffer, page: number, pageSize: number, location: string): { part: Buffer; next: number } {
  const bad = (what: string) => corruption(location, page * pageSize, what)
  if (slot.length < HEADER_BYTES) throw bad('truncated overflow page')
  const length = slot.readUInt32LE(8)
  if (HEADER_BYTES + length > slot.length) throw bad('overflow page runs past its slot')
  if (crc32(slot.subarray(4, HEADER_BYTES + length)) !== slot.readUInt32LE(0)) throw bad('overflow page checksum mismatch')
  if (slot.readUInt8(4) !== OVERFLOW_KIND) throw bad('value reference names a page that is not an overflow page')
  verifySlotPadding(slot, HEADER_BYTES + length, location, page * pageSize)
  return { part: slot.subarray(HEADER_BYTES, HEADER_BYTES + length), next: slot.readUInt32LE(12) }
}

/**
 * Reads the value of `length` bytes whose chain starts at `first`, verifying every page. Returns
 * the value and the pages it occupies. Any mismatch is LEVEL_CORRUPTION.
 */
export function readOverflow(read: SlotReader, first: number, length: number, pageSize: number, location: string): { value: Buffer; pages: number[] } {
  const count = overflowPageCount(length, pageSize)
  const parts: Buffer[] = []
  const pages: number[] = []
  let page = first
  for (let i = 0; i < count; i++) {
    if (page === 0) throw corruption(location, first * pageSize, 'overflow chain ends early')
    const { part, next } = parsePage(read(page), page, pageSize, location)
    parts.push(part)
    pages.push(page)
    page = next
  }
  const value = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)
  if (page !== 0 || value.length !== length) throw corruption(location, first * pageSize, 'overflow chain does not hold a value of the referenced length')
  return { value, pages }
}

/**
 * The pages of the chain of a `length`-byte value starting at `first`, following the next-page
 * fields of the page headers only (what freeing a chain needs). `readHeader` reads the first 16
 * bytes of a page.
 */
export function overflowChain(readHeader: SlotReader, first: number, length: number, pageSize: number, location: string): number[] {
  const pages: number[] = []
  let page = first
  for (let i = overflowPageCount(length, pageSize); i > 0; i--) {
    const header = page === 0 ? Buffer.alloc(0) : readHeader(page)
    if (header.length < HEADER_BYTES || header.readUInt8(4) !== OVERFLOW_KIND) throw corruption(location, page * pageSize, 'broken overflow chain')
    pages.push(page)
    page = header.readUInt32LE(12)
  }
  if (page !== 0) throw corruption(location, first * pageSize, 'overflow chain is longer than its value')
  return pages
}

/** Bytes of an overflow page header. */
export const OVERFLOW_HEADER_BYTES = HEADER_BYTES
