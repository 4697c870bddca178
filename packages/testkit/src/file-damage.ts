import type { MemoryFileData } from '@strata/storage'
import { between, type Random } from './random.js'

/** The kinds of damage a corruption campaign does to a file. */
export type DamageKind = 'flip' | 'zero' | 'truncate' | 'append'

/** Every kind of damage, in the order a campaign cycles through them. */
export const DAMAGE_KINDS: readonly DamageKind[] = ['flip', 'zero', 'truncate', 'append']

const SECTOR = 512

/** An offset in a file of `length` bytes, biased towards the small headers where most structure is. */
function offsetIn(rand: Random, length: number, name: string): number {
  // META's two slots are 64 bytes each at 0 and 512; the rest of it is padding.
  if (name === 'META' && rand() < 0.8) return Math.min(length - 1, (rand() < 0.5 ? 0 : 512) + between(rand, 0, 63))
  return between(rand, 0, length - 1)
}

/**
 * Damages one file in place, as a failing disk, a bad cable or another program might, and says
 * what it did (for reproducing a failure):
 * - `flip`: one to three bytes XORed with a random non-zero mask;
 * - `zero`: a 512-byte sector, or now and then a 4 KiB page, overwritten with zeros;
 * - `truncate`: the file cut short: anywhere, at a sector boundary, or by a few bytes;
 * - `append`: garbage after the end: random bytes, zeros, or a record-like header with a huge length.
 */
export function damageFile(data: MemoryFileData, name: string, kind: DamageKind, rand: Random): string {
  const length = data.length
  switch (kind) {
    case 'flip': {
      if (length === 0) return damageFile(data, name, 'append', rand)
      const flips: string[] = []
      for (let i = between(rand, 1, 3); i > 0; i--) {
        const at = offsetIn(rand, length, name)
        const mask = between(rand, 1, 255)
        data.bytes[at] = (data.bytes[at] as number) ^ mask
        flips.push(`${at}^0x${mask.toString(16)}`)
      }
      return `flipped bytes ${flips.join(', ')}`
    }
    case 'zero': {
      if (length === 0) return damageFile(data, name, 'append', rand)
      const size = rand() < 0.25 ? 8 * SECTOR : SECTOR
      const start = Math.floor(offsetIn(rand, length, name) / size) * size
      const end = Math.min(length, start + size)
      data.bytes.fill(0, start, end)
      return `zeroed bytes ${start} to ${end}`
    }
    case 'truncate': {
      if (length === 0) return damageFile(data, name, 'append', rand)
      const r = rand()
      const size = r < 0.3 ? Math.floor(between(rand, 0, length - 1) / SECTOR) * SECTOR : r < 0.5 ? Math.max(0, length - between(rand, 1, 16)) : between(rand, 0, length - 1)
      data.truncate(size)
      return `truncated from ${length} to ${size} bytes`
    }
    case 'append': {
      const r = rand()
      const garbage = Buffer.alloc(between(rand, 12, 2048))
      let what = 'zeros'
      if (r < 0.4) {
        for (let i = 0; i < garbage.length; i++) garbage[i] = between(rand, 0, 255)
        what = 'noise'
      } else if (r < 0.7) {
        // Looks like a record header (any checksum, a huge length, a known type), then noise.
        garbage.writeUInt32LE(between(rand, 0, 0xffffffff), 0)
        garbage.writeUInt32LE(between(rand, 1, 0x7fffffff), 4)
        garbage.writeUInt32LE(between(rand, 1, 7), 8)
        for (let i = 12; i < garbage.length; i++) garbage[i] = between(rand, 0, 255)
        what = 'record-like noise'
      }
      data.write(length, garbage)
      return `appended ${garbage.length} bytes of ${what}`
    }
  }
}
