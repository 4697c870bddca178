/**
 * A log address: segment number × 2^32 + byte offset in the segment. Below 2^53 for segment
 * numbers under 2^21, so a JS number holds it exactly.
 */
export type LogAddress = number & { readonly brand: 'LogAddress' }

const TWO_32 = 2 ** 32

/** The highest segment number whose addresses a JS number holds exactly (docs/format.md §Log addresses). */
export const LAST_SEGMENT = 2 ** 21 - 1

/** Bytes one segment can address: a byte at offset 2^32 would alias offset 0 of the next segment. */
export const SEGMENT_ADDRESS_BYTES = TWO_32

export function logAddress(segment: number, offset: number): LogAddress {
  return (segment * TWO_32 + offset) as LogAddress
}

export function segmentOf(address: number): number {
  return Math.floor(address / TWO_32)
}

export function offsetOf(address: number): number {
  return address % TWO_32
}
