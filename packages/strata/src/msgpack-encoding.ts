import type { Transcoder } from 'abstract-level'
import { Packr } from 'msgpackr'

/**
 * Standard MessagePack, so other MessagePack readers can decode what Strata stores: msgpackr's
 * record extension (which packs repeated object shapes smaller) would tie the bytes to msgpackr.
 */
const packr = new Packr({ useRecords: false })

/**
 * The MessagePack value encoding (`valueEncoding: 'msgpack'`): objects, arrays, strings,
 * numbers, booleans, null, Dates and binary data, packed with msgpackr into a Buffer. A Map is
 * stored as a MessagePack map and read back as a plain object.
 */
export const msgpack: Transcoder.IEncoding<unknown, Buffer, unknown> = {
  name: 'msgpack',
  format: 'buffer',
  encode: (data: unknown): Buffer => packr.pack(data),
  decode: (data: Buffer): unknown => packr.unpack(data),
}

/**
 * Encodings StrataLevel (and its sublevels) accept by name besides abstract-level's own
 * (utf8, json, buffer, view, hex, base64). level-transcoder keeps its table of names private,
 * so a name is swapped for its encoding object before abstract-level looks it up.
 */
const NAMED_ENCODINGS: ReadonlyMap<string, Transcoder.IEncoding<unknown, Buffer, unknown>> = new Map([['msgpack', msgpack]])

/** The encoding object for a name StrataLevel adds; any other encoding or name is returned as it came. */
function resolveEncoding<T>(encoding: T): T | Transcoder.IEncoding<unknown, Buffer, unknown> {
  return typeof encoding === 'string' ? (NAMED_ENCODINGS.get(encoding) ?? encoding) : encoding
}

/**
 * Options with `keyEncoding` and `valueEncoding` names that StrataLevel adds swapped for their
 * encodings: for a database's constructor, which resolves its default encodings by name at once.
 */
export function withNamedEncodings<T extends object>(options: T | undefined): T | undefined {
  if (options === undefined || options === null) return options
  const { keyEncoding, valueEncoding } = options as { keyEncoding?: unknown; valueEncoding?: unknown }
  if (resolveEncoding(keyEncoding) === keyEncoding && resolveEncoding(valueEncoding) === valueEncoding) return options
  return { ...options, keyEncoding: resolveEncoding(keyEncoding), valueEncoding: resolveEncoding(valueEncoding) }
}

/** What {@link registerNamedEncodings} needs of a database: abstract-level's encoding lookup and manifest. */
interface EncodingRegistry {
  valueEncoding(encoding: Transcoder.IEncoding<unknown, Buffer, unknown>): unknown
  supports: { encodings: Record<string, boolean> }
}

/**
 * Teaches a database's transcoder the names StrataLevel adds: once it has resolved an encoding
 * object it answers to that encoding's name too, so `{ valueEncoding: 'msgpack' }` then works
 * on every operation. The manifest lists them, as it lists abstract-level's own.
 */
export function registerNamedEncodings(db: EncodingRegistry): void {
  for (const [name, encoding] of NAMED_ENCODINGS) {
    db.valueEncoding(encoding)
    db.supports.encodings[name] = true
  }
}
