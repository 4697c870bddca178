import { Option } from 'commander'
import { msgpack } from 'strata'
import { type BytesEncoding, encodeBytes, showBytes } from './bytes-text.js'

/** The encodings `--value-encoding` takes: how the application wrote its values. */
export const VALUE_ENCODINGS = ['utf8', 'hex', 'json', 'msgpack'] as const

/** One of {@link VALUE_ENCODINGS}. */
export type ValueEncoding = (typeof VALUE_ENCODINGS)[number]

/** The `--value-encoding` option of `get`, `scan` and `snapshot diff`. */
export function valueEncodingOption(): Option {
  return new Option('--value-encoding <name>', 'decode values as the application encoded them; a value that does not decode is shown in hex').choices(VALUE_ENCODINGS)
}

/**
 * How a command shows keys and values: `hex` shows keys (and values, unless `valueEncoding`
 * says otherwise) as hex; `valueEncoding` decodes values as the application encoded them. With
 * neither, each side is text when printable and hex otherwise.
 */
export interface EntryFormat {
  hex: boolean
  valueEncoding?: ValueEncoding | undefined
}

/**
 * One entry as `get`, `scan` and `snapshot diff` print it with `--json`: each side, and how to
 * read it back. `value` is text for `utf8` and `hex`, and the decoded value for `json` and `msgpack`.
 */
export interface EntryJson {
  key: string
  keyEncoding: BytesEncoding
  value: unknown
  valueEncoding: BytesEncoding | 'json' | 'msgpack'
}

/** Fails on invalid UTF-8 instead of replacing it, and keeps a leading byte order mark. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * A decoded MessagePack value as JSON can carry it: binary data as its hex, big integers as
 * decimal text, undefined as null; Dates become ISO text through JSON itself.
 */
function jsonSafe(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')
  if (typeof value === 'bigint') return value.toString()
  if (value === undefined) return null
  if (Array.isArray(value)) return value.map(jsonSafe)
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), jsonSafe(v)]))
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]))
  return value
}

/** The value `bytes` decode to in `encoding`, or undefined when they do not decode (the caller falls back to hex). */
function decode(bytes: Uint8Array, encoding: 'utf8' | 'json' | 'msgpack'): { value: unknown } | undefined {
  try {
    if (encoding === 'msgpack') return { value: jsonSafe(msgpack.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) }
    const text = UTF8.decode(bytes)
    return { value: encoding === 'json' ? JSON.parse(text) : text }
  } catch {
    return undefined
  }
}

/** A value for JSON output: decoded as `format` asks, or as text or hex, saying which. */
export function encodeValue(bytes: Uint8Array, format: EntryFormat): { value: unknown; valueEncoding: EntryJson['valueEncoding'] } {
  const encoding = format.valueEncoding
  if (encoding === undefined || encoding === 'hex') {
    const { text, encoding: used } = encodeBytes(bytes, format.hex || encoding === 'hex')
    return { value: text, valueEncoding: used }
  }
  const decoded = decode(bytes, encoding)
  if (decoded === undefined) return { value: encodeBytes(bytes, true).text, valueEncoding: 'hex' }
  return { value: decoded.value, valueEncoding: encoding }
}

/**
 * A value for a person: decoded as `format` asks (JSON and MessagePack on one line of JSON, text
 * as it is), else as {@link showBytes} shows bytes. A value that does not decode is shown as `0x`
 * and its hex.
 */
export function showValue(bytes: Uint8Array, format: EntryFormat): string {
  const encoding = format.valueEncoding
  if (encoding === undefined) return showBytes(bytes, format.hex)
  if (encoding === 'hex') return showBytes(bytes, true)
  const decoded = decode(bytes, encoding)
  if (decoded === undefined) return `0x${showBytes(bytes, true)}`
  return encoding === 'utf8' ? (decoded.value as string) : JSON.stringify(decoded.value)
}

/** An entry as JSON output carries it, the same in `get`, `scan` and `snapshot diff`. */
export function entryJson(key: Uint8Array, value: Uint8Array, format: EntryFormat): EntryJson {
  const k = encodeBytes(key, format.hex)
  return { key: k.text, keyEncoding: k.encoding, ...encodeValue(value, format) }
}


/**
 * One change as `snapshot diff --json` prints it: the entry in the first state and in the second,
 * each as {@link entryJson} gives it, or null where the key is absent.
 */
export interface ChangeJson {
  change: 'added' | 'removed' | 'changed'
  before: EntryJson | null
  after: EntryJson | null
}

/** A change between two states as JSON output carries it. */
export function changeJson(key: Uint8Array, before: Uint8Array | undefined, after: Uint8Array | undefined, format: EntryFormat): ChangeJson {
  return {
    change: before === undefined ? 'added' : after === undefined ? 'removed' : 'changed',
    before: before === undefined ? null : entryJson(key, before, format),
    after: after === undefined ? null : entryJson(key, after, format),
  }
}
