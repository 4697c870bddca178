/**
 * The three formats abstract-level reduces every key and value to before it reaches the private
 * API, and their conversion to and from the engine's bytes. Whoever owns a buffer is stated on
 * each function: the engine owns what it returns, and keeps what it is given past the call.
 */

/** A key or value as the private API receives it: a Buffer, a Uint8Array or a string. */
export type Encoded = Buffer | Uint8Array | string

/**
 * The bytes of `data`, without a copy where one can be avoided. The engine compares read keys
 * during the call and copies written keys and values when `write` is called, so a view is enough.
 */
export function toBytes(data: Encoded): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  if (Buffer.isBuffer(data)) return data
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}

/** A private copy of `data`, for bytes kept past the call (an iterator's range bounds). */
export function toOwnedBytes(data: Encoded): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  return Buffer.from(data)
}

/**
 * What a reader receives for bytes the engine owns, in `format`: always memory the reader owns,
 * since an engine buffer may be a slice of a cached page that later reads still depend on.
 */
export function fromEngine(bytes: Buffer, format: string): Encoded {
  // A string is the reader's own already; bytes are copied first.
  return fromOwned(format === 'utf8' ? bytes : Buffer.from(bytes), format)
}

/** What a reader receives, in `format`, for bytes that are already its own (an engine's copies): no copy again. */
export function fromOwned(bytes: Buffer, format: string): Encoded {
  switch (format) {
    case 'utf8':
      return bytes.toString('utf8')
    case 'view':
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    case 'buffer':
      return bytes
    default:
      throw new TypeError(`unknown format '${format}': expected 'buffer', 'view' or 'utf8'`)
  }
}

/** Whether `format` hands a reader bytes (buffer or view), which must be memory the reader owns. */
export function wantsBytes(format: string | undefined): boolean {
  return format === 'buffer' || format === 'view'
}

/** The range options of the private API (already encoded), normalized for the engine. */
export interface EncodedRange {
  gt?: Encoded | undefined
  gte?: Encoded | undefined
  lt?: Encoded | undefined
  lte?: Encoded | undefined
  reverse?: boolean | undefined
}

/** A range in engine bytes with one bound per side: `gte` wins over `gt`, `lte` over `lt`, as in abstract-level. */
export interface ByteRange {
  gt?: Buffer
  gte?: Buffer
  lt?: Buffer
  lte?: Buffer
  reverse: boolean
}

/**
 * Converts private-API range options to engine bytes, copied, since a cursor keeps its bounds
 * for its lifetime. abstract-level lets a caller pass both `gt` and `gte` (or `lt` and `lte`)
 * and gives the inclusive one precedence; the engine would apply both, so only the winner is kept.
 */
export function toByteRange(options: EncodedRange): ByteRange {
  const range: ByteRange = { reverse: options.reverse === true }
  if (options.gte !== undefined) range.gte = toOwnedBytes(options.gte)
  else if (options.gt !== undefined) range.gt = toOwnedBytes(options.gt)
  if (options.lte !== undefined) range.lte = toOwnedBytes(options.lte)
  else if (options.lt !== undefined) range.lt = toOwnedBytes(options.lt)
  return range
}

/** Whether `key` lies inside `range`'s bounds (direction does not matter). */
export function isInRange(range: ByteRange, key: Buffer): boolean {
  if (range.gte && key.compare(range.gte) < 0) return false
  if (range.gt && key.compare(range.gt) <= 0) return false
  if (range.lte && key.compare(range.lte) > 0) return false
  if (range.lt && key.compare(range.lt) >= 0) return false
  return true
}
