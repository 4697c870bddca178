import { corruption, readU64, SALTED_RECORD_HEADER_BYTES, writeU64 } from '@strata/storage'

/**
 * The WAL records a checkpoint writes (docs/format.md §COW WAL records): one PAGE record per page
 * it will overwrite in place, then one CHECKPOINT record. Together they are the checkpoint's full
 * page images: once the CHECKPOINT record is durable, recovery can redo every in-place write.
 *
 * PAGE payload: u32 page number, then the page image (at most one page).
 * CHECKPOINT payload: u64 seq, u64 live data bytes, u32 root page, u32 page count, u32 free-list
 * head page, u32 free page count, u32 number of PAGE records before it in this checkpoint, u32
 * first page of the snapshot catalogue, u32 flags (bit 0: a restore, whose tree is a named
 * snapshot's and whose sequence number is one past the last batch's). A 36-byte payload, written
 * before named snapshots existed, has no catalogue and no flags.
 */
export const PAGE_RECORD_PREFIX = SALTED_RECORD_HEADER_BYTES + 4

const CHECKPOINT_PAYLOAD_BYTES = 44
const V1_CHECKPOINT_PAYLOAD_BYTES = 36
/** CHECKPOINT flag: the checkpoint restores a named snapshot. */
export const RESTORE_FLAG = 1

/** What a checkpoint makes durable: everything the next meta slot will say. */
export interface CheckpointRecord {
  /** Sequence number of the last batch the checkpoint's tree contains. */
  seq: number
  /** Key and value bytes of the tree's entries. */
  dataBytes: number
  root: number
  /** Pages of pages.db in use or free, meta pages included. */
  pageCount: number
  /** First page of the free-list chain; 0 when no page is free. */
  freeListHead: number
  freePages: number
  /** How many PAGE records the checkpoint wrote before this record. */
  images: number
  /** First page of the snapshot catalogue; 0 when there are no named snapshots. */
  catalogue: number
  /** {@link RESTORE_FLAG}, or 0. */
  flags: number
}

/** Encodes a CHECKPOINT payload. */
export function encodeCheckpoint(c: CheckpointRecord): Buffer {
  const buf = Buffer.alloc(CHECKPOINT_PAYLOAD_BYTES)
  let at = writeU64(buf, c.seq, 0)
  at = writeU64(buf, c.dataBytes, at)
  at = buf.writeUInt32LE(c.root, at)
  at = buf.writeUInt32LE(c.pageCount, at)
  at = buf.writeUInt32LE(c.freeListHead, at)
  at = buf.writeUInt32LE(c.freePages, at)
  at = buf.writeUInt32LE(c.images, at)
  at = buf.writeUInt32LE(c.catalogue, at)
  buf.writeUInt32LE(c.flags, at)
  return buf
}

/** Decodes a CHECKPOINT payload; a payload of any other length is LEVEL_CORRUPTION. */
export function decodeCheckpoint(payload: Buffer, file: string, offset: number): CheckpointRecord {
  const whole = payload.length === CHECKPOINT_PAYLOAD_BYTES
  if (!whole && payload.length !== V1_CHECKPOINT_PAYLOAD_BYTES) throw corruption(file, offset, 'malformed checkpoint record')
  return {
    seq: readU64(payload, 0),
    dataBytes: readU64(payload, 8),
    root: payload.readUInt32LE(16),
    pageCount: payload.readUInt32LE(20),
    freeListHead: payload.readUInt32LE(24),
    freePages: payload.readUInt32LE(28),
    images: payload.readUInt32LE(32),
    catalogue: whole ? payload.readUInt32LE(36) : 0,
    flags: whole ? payload.readUInt32LE(40) : 0,
  }
}

/** Writes the page number of a PAGE record whose image already sits at `framed[20..]`. */
export function stampPageRecord(framed: Buffer, page: number): Buffer {
  framed.writeUInt32LE(page, SALTED_RECORD_HEADER_BYTES)
  return framed
}

/** Splits a PAGE payload into its page number and image (a view of the payload). */
export function decodePageRecord(payload: Buffer, pageSize: number, file: string, offset: number): { page: number; image: Buffer } {
  if (payload.length < 4 || payload.length - 4 > pageSize) throw corruption(file, offset, 'malformed page record')
  return { page: payload.readUInt32LE(0), image: payload.subarray(4) }
}
