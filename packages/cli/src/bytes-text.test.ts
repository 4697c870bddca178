import { describe, expect, it } from 'vitest'
import { encodeBytes, parseBytes, showBytes } from './bytes-text.js'

const bytes = (...values: number[]) => Buffer.from(values)

describe('keys and values as text', () => {
  it('shows printable UTF-8 as itself, emoji and accents included', () => {
    expect(showBytes(Buffer.from('café ☕ order:1'), false)).toBe('café ☕ order:1')
    expect(encodeBytes(Buffer.from('café'), false)).toEqual({ text: 'café', encoding: 'utf8' })
  })

  it('shows invalid UTF-8, control characters and line separators as 0x and hex', () => {
    expect(showBytes(bytes(0xc3, 0x28), false)).toBe('0xc328')
    expect(showBytes(Buffer.from('a\tb'), false)).toBe('0x610962')
    expect(showBytes(Buffer.from('a\nb'), false)).toBe('0x610a62')
    expect(showBytes(Buffer.from('a\u2028b'), false)).toBe('0x61e280a862')
    expect(encodeBytes(Buffer.from('a\nb'), false)).toEqual({ text: '610a62', encoding: 'hex' })
  })

  it('shows text that begins with 0x as hex, so it cannot pass for hex', () => {
    expect(showBytes(Buffer.from('0xff'), false)).toBe('0x30786666')
    expect(encodeBytes(Buffer.from('0xff'), false)).toEqual({ text: '0xff', encoding: 'utf8' })
  })

  it('keeps a byte order mark, and shows the empty string as nothing', () => {
    expect(showBytes(Buffer.from('\ufeffa'), false)).toBe('\ufeffa')
    expect(showBytes(Buffer.alloc(0), false)).toBe('')
  })

  it('shows plain hex with --hex', () => {
    expect(showBytes(Buffer.from('ab'), true)).toBe('6162')
    expect(encodeBytes(Buffer.from('ab'), true)).toEqual({ text: '6162', encoding: 'hex' })
  })

  it('reads keys as UTF-8, or as hex with --hex', () => {
    expect(parseBytes('café', false, 'key')).toEqual(Buffer.from('café'))
    expect(parseBytes('00FFab', true, 'key')).toEqual(bytes(0x00, 0xff, 0xab))
    expect(parseBytes('', true, 'key')).toEqual(Buffer.alloc(0))
    expect(() => parseBytes('abc', true, 'key')).toThrow(expect.objectContaining({ code: 'STRATA_USAGE' }))
  })
})
