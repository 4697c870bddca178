import { crc32 as zlibCrc32 } from 'node:zlib'

/** CRC-32 (IEEE) of `data`, Node's native implementation; guards every stored page and record. */
export function crc32(data: Uint8Array): number {
  return zlibCrc32(data) >>> 0
}
