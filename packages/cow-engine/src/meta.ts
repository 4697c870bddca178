import { crc32, ErrorCode, readU64, StrataError, writeU64 } from '@strata/storage'

/**
 * The meta slots at the start of pages.db (docs/format.md §COW meta): two 72-byte slots at byte
 * offsets 0 and 512, in separate sectors, written alternately as LMDB writes its two meta pages.
 * The valid slot with the higher generation names the durable checkpoint. The first 1024 bytes
 * of pages.db belong to the meta; data pages start at page ⌈1024 / pageSize⌉. Format version 2
 * added the snapshot catalogue (bytes 64–71); a version 1 slot (64 bytes) reads as one with no
 * catalogue.
 */
export const META_AREA_BYTES = 1024
const MAGIC = 0x43525453 // 'STRC'
const FORMAT_VERSION = 2
const SLOT_BYTES = 72
const V1_SLOT_BYTES = 64
const SLOT_OFFSETS = [0, 512] as const

/** What a meta slot records: a durable checkpoint, and where the WAL after it begins. */
export interface Meta {
  /** Increases with every meta write. */
  generation: number
  pageSize: number
  /** Sequence number of the last batch the checkpoint's tree contains. */
  seq: number
  /** The LSN replay starts at: just past the checkpoint's CHECKPOINT record. */
  walBase: number
  /** Key and value bytes of the tree's entries. */
  dataBytes: number
  root: number
  /** Pages of pages.db in use or free, meta pages included. */
  pageCount: number
  /** First page of the free-list chain; 0 when no page is free. */
  freeListHead: number
  freePages: number
  /** First page of the named snapshot catalogue; 0 when there are no named snapshots. */
  catalogue: number
}

/** The first page number that holds data at this page size. */
export function firstDataPage(pageSize: number): number {
  return Math.ceil(META_AREA_BYTES / pageSize)
}

/** The byte offset of the slot that meta generation `generation` goes to. */
export function slotOffset(generation: number): number {
  return generation % 2 === 0 ? 0 : 512
}

/** Encodes one 64-byte meta slot. */
export function encodeMeta(meta: Meta): Buffer {
  const buf = Buffer.alloc(SLOT_BYTES)
  buf.writeUInt32LE(MAGIC, 4)
  buf.writeUInt16LE(FORMAT_VERSION, 8)
  buf.writeUInt32LE(meta.pageSize, 12)
  writeU64(buf, meta.generation, 16)
  writeU64(buf, meta.seq, 24)
  writeU64(buf, meta.walBase, 32)
  writeU64(buf, meta.dataBytes, 40)
  buf.writeUInt32LE(meta.root, 48)
  buf.writeUInt32LE(meta.pageCount, 52)
  buf.writeUInt32LE(meta.freeListHead, 56)
  buf.writeUInt32LE(meta.freePages, 60)
  buf.writeUInt32LE(meta.catalogue, 64)
  buf.writeUInt32LE(crc32(buf.subarray(4)), 0)
  return buf
}

function decodeSlot(buf: Buffer, location: string): Meta | undefined {
  if (buf.length < SLOT_BYTES || buf.readUInt32LE(4) !== MAGIC) return undefined
  // A version 2 slot's checksum covers 72 bytes, a version 1 slot's 64.
  const bytes = crc32(buf.subarray(4, SLOT_BYTES)) === buf.readUInt32LE(0) ? SLOT_BYTES : crc32(buf.subarray(4, V1_SLOT_BYTES)) === buf.readUInt32LE(0) ? V1_SLOT_BYTES : 0
  if (bytes === 0) return undefined
  const version = buf.readUInt16LE(8)
  if (version !== (bytes === SLOT_BYTES ? FORMAT_VERSION : 1)) {
    throw new StrataError(ErrorCode.UNSUPPORTED_FORMAT, `${location} has format version ${version}; this Strata reads versions 1 and ${FORMAT_VERSION}`)
  }
  return {
    pageSize: buf.readUInt32LE(12),
    generation: readU64(buf, 16),
    seq: readU64(buf, 24),
    walBase: readU64(buf, 32),
    dataBytes: readU64(buf, 40),
    root: buf.readUInt32LE(48),
    pageCount: buf.readUInt32LE(52),
    freeListHead: buf.readUInt32LE(56),
    freePages: buf.readUInt32LE(60),
    catalogue: bytes === SLOT_BYTES ? buf.readUInt32LE(64) : 0,
  }
}

/**
 * The newest valid meta in the first 1024 bytes of pages.db. LEVEL_CORRUPTION if neither slot is
 * valid; STRATA_UNSUPPORTED_FORMAT if a valid slot has another format version.
 */
export function decodeMetaArea(area: Buffer, location: string): Meta {
  const slots = SLOT_OFFSETS.map((offset) => decodeSlot(area.subarray(offset, offset + SLOT_BYTES), location))
  const best = slots.reduce<Meta | undefined>((a, b) => (b && (!a || b.generation > a.generation) ? b : a), undefined)
  if (!best) throw new StrataError(ErrorCode.CORRUPTION, `no valid meta slot in ${location} at offsets 0 or 512`)
  if (best.pageSize < 256 || best.pageSize > 65536) throw new StrataError(ErrorCode.CORRUPTION, `meta of ${location} names page size ${best.pageSize}`)
  return best
}

/** Whether a meta area was never written: a creation cut short before its meta was durable. */
export function isBlankMetaArea(area: Buffer): boolean {
  return area.every((byte) => byte === 0)
}
