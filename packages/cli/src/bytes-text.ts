import { CliError, CliErrorCode } from './cli-error.js'

/** How a key or value is written out: as UTF-8 text, or as hexadecimal. */
export type BytesEncoding = 'utf8' | 'hex'

/** A key or value as JSON output carries it: the text and how to read it back. */
export interface EncodedBytes {
  text: string
  encoding: BytesEncoding
}

/** Control characters and line or paragraph separators would break line-oriented output. */
const UNPRINTABLE = /[\p{Cc}\p{Zl}\p{Zp}]/u
/** Fails on invalid UTF-8 instead of replacing it, and keeps a leading byte order mark. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const HEX = /^(?:[0-9a-fA-F]{2})*$/

/** The bytes as text when they are valid UTF-8 without control characters; else undefined. */
export function printableText(bytes: Uint8Array): string | undefined {
  let text: string
  try {
    text = UTF8.decode(bytes)
  } catch {
    return undefined
  }
  return UNPRINTABLE.test(text) ? undefined : text
}

/**
 * Bytes for a person to read: their text when printable, else `0x` and their hex. Text that
 * itself begins with `0x` is shown in hex too, so the two forms never look alike. With `hex`,
 * plain hex, always.
 */
export function showBytes(bytes: Uint8Array, hex: boolean): string {
  const hexText = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
  if (hex) return hexText
  const text = printableText(bytes)
  return text === undefined || text.startsWith('0x') ? `0x${hexText}` : text
}

/** Bytes for JSON output: their text when printable, else their hex, saying which; with `hex`, hex always. */
export function encodeBytes(bytes: Uint8Array, hex: boolean): EncodedBytes {
  const text = hex ? undefined : printableText(bytes)
  if (text !== undefined) return { text, encoding: 'utf8' }
  return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex'), encoding: 'hex' }
}

/** A key or bound given on the command line: its UTF-8 bytes, or with `hex` the bytes its hex digits spell. */
export function parseBytes(text: string, hex: boolean, what: string): Buffer {
  if (!hex) return Buffer.from(text, 'utf8')
  if (!HEX.test(text)) throw new CliError(CliErrorCode.USAGE, `${what} '${text}' is not hex (an even number of the digits 0-9 and a-f)`)
  return Buffer.from(text, 'hex')
}
