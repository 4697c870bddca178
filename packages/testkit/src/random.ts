/** A source of pseudo-random numbers in [0, 1), reproducible from its seed. */
export type Random = () => number

/** A small deterministic generator (xorshift32), so every campaign is reproducible from its seed. */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 2 ** 32
  }
}

/** A generator for item `index` of stream `seed`, so any item can be rebuilt without the ones before it. */
export function randomFor(seed: number, index: number): Random {
  // Mix the two numbers (a MurmurHash3 finalizer) so neighbouring indexes start far apart.
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index >>> 0, 0x85ebca6b)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  const rand = seededRandom((h ^ (h >>> 16)) >>> 0)
  rand() // the first draw of xorshift is still close to its seed
  return rand
}

/** An integer in [min, max]. */
export function between(rand: Random, min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1))
}

/** One of `items`. */
export function pick<T>(rand: Random, items: readonly T[]): T {
  const item = items[Math.floor(rand() * items.length)]
  if (item === undefined) throw new RangeError('pick from an empty list')
  return item
}
