import type { StoredValue, ValueRef } from './node.js'

/**
 * A leaf entry in the byte layout it has on a page (docs/format.md §Pages, leaf body), wherever it
 * sits: in a page image, or in the tree's arena for entries written since the leaf was last laid
 * out. A leaf keeps, per entry, the buffer and offset of these bytes instead of a Buffer view per
 * key and value: no object per entry for the collector to trace, a page laid out by copying byte
 * ranges, and a page decoded by finding offsets.
 *
 *   u16 key length k · k key bytes · u8 value kind (0 inline, 1 out of line) · u32 value length v ·
 *   v value bytes (kind 0) or u64 record address (kind 1)
 */
const VALUE_INLINE = 0
const VALUE_REF = 1
const TWO_32 = 2 ** 32

/** Length of the key of the entry at `off`. */
export function entryKeyLength(src: Buffer, off: number): number {
  return (src[off] as number) | ((src[off + 1] as number) << 8)
}

/** Length of the value of the entry at `off` (inline or not). */
export function entryValueLength(src: Buffer, off: number): number {
  const at = off + 3 + entryKeyLength(src, off)
  return ((src[at] as number) | ((src[at + 1] as number) << 8) | ((src[at + 2] as number) << 16)) + (src[at + 3] as number) * 2 ** 24
}

/** Whether the entry at `off` keeps its value out of line. */
export function entryIsRef(src: Buffer, off: number): boolean {
  return src[off + 2 + entryKeyLength(src, off)] === VALUE_REF
}

/** Encoded bytes of the entry at `off`. */
export function entrySize(src: Buffer, off: number): number {
  const k = entryKeyLength(src, off)
  return 7 + k + (src[off + 2 + k] === VALUE_REF ? 8 : entryValueLength(src, off))
}

/** Encoded bytes of an entry holding `key` and `value`. */
export function encodedEntryBytes(keyLength: number, value: StoredValue): number {
  return 7 + keyLength + (Buffer.isBuffer(value) ? value.length : 8)
}

/** Writes the entry for `key` and `value` at `dst[at]`; returns the offset after it. */
export function encodeEntry(key: Uint8Array, value: StoredValue, dst: Buffer, at: number): number {
  at = dst.writeUInt16LE(key.length, at)
  dst.set(key, at)
  at += key.length
  if (Buffer.isBuffer(value)) {
    at = dst.writeUInt8(VALUE_INLINE, at)
    at = dst.writeUInt32LE(value.length, at)
    dst.set(value, at)
    return at + value.length
  }
  at = dst.writeUInt8(VALUE_REF, at)
  at = dst.writeUInt32LE(value.length, at)
  at = dst.writeUInt32LE(value.address % TWO_32, at)
  return dst.writeUInt32LE(Math.floor(value.address / TWO_32), at)
}

/** The key of the entry at `off`: a view of `src`, which the caller must not change. */
export function entryKey(src: Buffer, off: number): Buffer {
  return src.subarray(off + 2, off + 2 + entryKeyLength(src, off))
}

/** The value of the entry at `off`: a view of `src` (not to be changed), or where it lives. */
export function entryValue(src: Buffer, off: number): StoredValue {
  const k = entryKeyLength(src, off)
  const length = entryValueLength(src, off)
  const at = off + 7 + k
  if (src[off + 2 + k] === VALUE_REF) return { address: src.readUInt32LE(at) + src.readUInt32LE(at + 4) * TWO_32, length } satisfies ValueRef
  return src.subarray(at, at + length)
}

/** Byte-wise comparison of the entry's key at `off` with `target`, in place. */
export function compareEntryKey(src: Buffer, off: number, target: Uint8Array): number {
  const k = entryKeyLength(src, off)
  const n = k < target.length ? k : target.length
  const base = off + 2
  for (let i = 0; i < n; i++) {
    const d = (src[base + i] as number) - (target[i] as number)
    if (d !== 0) return d
  }
  return k - target.length
}

/** Byte-wise comparison of two entries' keys, in place. */
export function compareEntryKeys(a: Buffer, aOff: number, b: Buffer, bOff: number): number {
  const ka = entryKeyLength(a, aOff)
  const kb = entryKeyLength(b, bOff)
  const n = ka < kb ? ka : kb
  for (let i = 0; i < n; i++) {
    const d = (a[aOff + 2 + i] as number) - (b[bOff + 2 + i] as number)
    if (d !== 0) return d
  }
  return ka - kb
}

/** Whether two entries hold the same bytes (key, value kind, value or address). */
export function sameEntryBytes(a: Buffer, aOff: number, b: Buffer, bOff: number): boolean {
  const size = entrySize(a, aOff)
  if (size !== entrySize(b, bOff)) return false
  for (let i = 0; i < size; i++) if (a[aOff + i] !== b[bOff + i]) return false
  return true
}

/**
 * Where a tree writes the entries of its puts: chunks filled from the front and never changed, so
 * a leaf (and every snapshot that shares it) may point into them. A chunk is collected once no
 * node refers to it: dirty leaves move their entries onto their own page image when laid out.
 *
 * Each new chunk is twice the size of the last, from `firstChunkBytes` up to `maxChunkBytes`: a
 * tree that takes few writes keeps a small chunk, and one that takes many allocates seldom (each
 * allocation of fresh memory costs tens of microseconds, whatever its size).
 */
export class EntryArena {
  #chunk: Buffer = Buffer.alloc(0)
  #at = 0
  #nextBytes: number

  constructor(
    readonly firstChunkBytes = 64 * 1024,
    readonly maxChunkBytes = 1024 * 1024,
  ) {
    this.#nextBytes = firstChunkBytes
  }

  /** Writes the entry for `key` and `value`; returns the buffer and offset that now hold it. */
  add(key: Uint8Array, value: StoredValue): [Buffer, number] {
    const size = encodedEntryBytes(key.length, value)
    if (this.#at + size > this.#chunk.length) {
      this.#chunk = Buffer.allocUnsafeSlow(Math.max(this.#nextBytes, size))
      this.#nextBytes = Math.min(this.#nextBytes * 2, this.maxChunkBytes)
      this.#at = 0
    }
    const off = this.#at
    this.#at = encodeEntry(key, value, this.#chunk, off)
    return [this.#chunk, off]
  }

  /** Bytes of the chunk being filled: how much an arena holds at least once written to. */
  get chunkBytes(): number {
    return this.#chunk.length
  }
}
